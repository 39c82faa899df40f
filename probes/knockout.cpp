#include "probes/knockout.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace mechscope::probes {

void add_attention_knockout(HookSet& hooks, const std::vector<int64_t>& layers,
                            PositionRange queries, PositionRange keys) {
  for (int64_t layer : layers) {
    hooks.add(HookKind::Pattern, static_cast<int>(layer),
              [queries, keys](HookCall& call) {
                const int64_t T = call.value.size(2), S = call.value.size(3);
                const int64_t q0 = std::min(queries.begin, T), q1 = std::min(queries.end, T);
                const int64_t k0 = std::min(keys.begin, S), k1 = std::min(keys.end, S);
                if (q0 >= q1 || k0 >= k1) return;
                at::Tensor p = call.value.clone();  // [batch, head, query, key]
                p.slice(2, q0, q1).slice(3, k0, k1).zero_();
                // Rows whose every allowed key was blocked keep zeros (nothing left to attend).
                at::Tensor sum = p.sum(-1, true);
                call.value = at::where(sum > 0, p / sum.clamp_min(1e-30), p);
              });
  }
}

void add_image_mean_ablation(HookSet& hooks) {
  hooks.add(HookKind::ImageFeatures, -1, [](HookCall& call) {
    call.value = call.value.mean(0, true).expand_as(call.value).contiguous();
  });
}

}  // namespace mechscope::probes
