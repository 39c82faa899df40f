#include "probes/ablation.h"

#include <ATen/ATen.h>

#include <limits>
#include <map>
#include <memory>

namespace mechscope::probes {

void add_uniform_attention(HookSet& hooks, const std::vector<std::pair<int64_t, int64_t>>& heads) {
  std::map<int64_t, std::vector<int64_t>> by_layer;
  for (const auto& [l, h] : heads) by_layer[l].push_back(h);
  for (const auto& [layer, list] : by_layer) {
    hooks.add(HookKind::AttnScores, static_cast<int>(layer), [list](HookCall& call) {
      at::Tensor s = call.value.clone();  // [batch, head, query, key]; masked = lowest
      const float lowest = std::numeric_limits<float>::lowest();
      for (int64_t h : list) {
        at::Tensor slice = s.select(1, h);
        slice.copy_(at::where(slice == lowest, slice, at::zeros_like(slice)));
      }
      call.value = s;
    });
  }
}

void add_head_ablation(HookSet& hooks, const std::vector<std::pair<int64_t, int64_t>>& heads,
                       AblationKind kind) {
  auto by_layer = std::make_shared<std::map<int64_t, std::vector<int64_t>>>();
  for (const auto& [l, h] : heads) (*by_layer)[l].push_back(h);
  for (const auto& [layer, hs] : *by_layer) {
    const std::vector<int64_t> list = hs;
    hooks.add(HookKind::Z, static_cast<int>(layer), [list, kind](HookCall& call) {
      at::Tensor z = call.value.clone();  // [batch, pos, head, d_head]
      for (int64_t h : list) {
        at::Tensor slice = z.select(2, h);
        if (kind == AblationKind::Zero) {
          slice.zero_();
        } else {
          slice.copy_(slice.mean(at::IntArrayRef{0, 1}, true).expand_as(slice));
        }
      }
      call.value = z;
    });
  }
}

}  // namespace mechscope::probes
