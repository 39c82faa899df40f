#include "probes/knockout.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "core/model/model.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

/// Puts the lowest finite value into the scores [batch, head, query, key] where `m` [rows or 1,
/// query, key] is set. Returns the rows left with no allowed key ([batch, head, query] bool, or
/// undefined when there are none): their attention must be zero, not uniform over masked keys.
at::Tensor block(at::Tensor& s, at::Tensor m) {
  if (m.size(0) != s.size(0)) m = m.expand({s.size(0), -1, -1});
  const double lowest = s.scalar_type() == at::kHalf     ? -65504.0
                        : s.scalar_type() == at::kDouble ? std::numeric_limits<double>::lowest()
                                                         : double(std::numeric_limits<float>::lowest());
  s = s.masked_fill(m.unsqueeze(1), lowest);
  at::Tensor dead = (s == lowest).all(-1);
  return dead.any().item<bool>() ? dead : at::Tensor();
}

/// Adds the hooks of one layer: `mask(scores)` gives the edges to block for these scores.
void add_layer(HookSet& hooks, int layer, std::function<at::Tensor(const at::Tensor&)> mask) {
  auto dead = std::make_shared<at::Tensor>();
  hooks.add(HookKind::AttnScores, layer, [mask, dead](HookCall& call) {
    *dead = at::Tensor();
    if (at::Tensor m = mask(call.value); m.defined()) *dead = block(call.value, m);
  });
  // A query whose every key is blocked attends to nothing (zero weights), as with −∞ scores
  // there is nothing left to renormalise over.
  hooks.add(HookKind::Pattern, layer, [dead](HookCall& call) {
    if (dead->defined()) call.value = call.value.masked_fill(dead->unsqueeze(-1), 0);
  });
}

/// The mask [rows, T, S] for scores with T queries and S keys: `blocked` covers the last T keys
/// (a cached prefix in front is never blocked).
at::Tensor fit(const at::Tensor& blocked, int64_t T, int64_t S) {
  at::Tensor m = blocked.slice(1, 0, T).slice(2, 0, std::min(T, blocked.size(2)));
  if (m.size(2) < S) m = at::constant_pad_nd(m, {S - m.size(2), 0}, 0);
  return m;
}

}  // namespace

void add_attention_knockout(HookSet& hooks, const at::Tensor& blocked, const at::Tensor& layers) {
  const int64_t n_layers = layers.size(1);
  for (int64_t l = 0; l < n_layers; ++l) {
    const at::Tensor active = layers.select(1, l).to(at::kBool);  // [rows]
    if (!active.any().item<bool>()) continue;
    add_layer(hooks, int(l), [blocked, active](const at::Tensor& s) {
      return fit(blocked.to(s.device()), s.size(2), s.size(3)) & active.to(s.device()).view({-1, 1, 1});
    });
  }
}

void add_attention_knockout(HookSet& hooks, const std::vector<int64_t>& layers,
                            PositionRange queries, PositionRange keys) {
  for (int64_t l : layers)
    add_layer(hooks, int(l), [queries, keys](const at::Tensor& s) -> at::Tensor {
      const int64_t T = s.size(2), S = s.size(3), prefix = S - T;
      const int64_t q0 = std::min(queries.begin, T), q1 = std::min(queries.end, T);
      const int64_t k0 = std::min(keys.begin, T), k1 = std::min(keys.end, T);
      if (q0 >= q1 || k0 >= k1) return {};
      at::Tensor m = at::zeros({1, T, S}, s.options().dtype(at::kBool));
      m.slice(1, q0, q1).slice(2, prefix + k0, prefix + k1).fill_(true);
      return m;
    });
}

std::vector<int64_t> window_layers(int64_t centre, int64_t window, int64_t n_layers) {
  std::vector<int64_t> out;
  if (window <= 0) return out;
  const int64_t lo = centre - (window - 1) / 2, hi = lo + window - 1;
  for (int64_t l = std::max<int64_t>(0, lo); l <= std::min(hi, n_layers - 1); ++l) out.push_back(l);
  return out;
}

at::Tensor edge_mask(int64_t T, const std::vector<int64_t>& from, const std::vector<int64_t>& to) {
  at::Tensor m = at::zeros({T, T}, at::kBool);
  auto a = m.accessor<bool, 2>();
  for (int64_t q : to)
    for (int64_t k : from)
      if (q >= 0 && q < T && k >= 0 && k < T) a[q][k] = true;
  return m;
}

at::Tensor knockout_probabilities(const Model& model, const std::vector<int64_t>& tokens,
                                  const at::Tensor& pixels, int64_t answer,
                                  const at::Tensor& blocked, const at::Tensor& layers,
                                  const std::function<void(double)>& progress) {
  const int64_t E = layers.size(0), T = int64_t(tokens.size());
  const int64_t chunk = sweep_batch_size(model, T, 128);
  const at::Tensor prompt = prompt_tensor(model, tokens);
  std::vector<at::Tensor> out;
  for (int64_t e0 = 0; e0 < E; e0 += chunk) {
    const int64_t e1 = std::min(E, e0 + chunk);
    HookSet hooks;
    add_attention_knockout(hooks, blocked.size(0) == 1 ? blocked : blocked.slice(0, e0, e1),
                           layers.slice(0, e0, e1));
    // Only the last position is unembedded.
    hooks.add(HookKind::LnFinalScale, -1, [](HookCall& h) { h.stop = true; });
    const ForwardOutput f = run_tokens(model, prompt.expand({e1 - e0, T}), pixels, &hooks);
    out.push_back(at::softmax(model.unembed(f.resid.select(1, T - 1)).to(at::kFloat), -1)
                      .select(1, answer)
                      .to(at::kCPU));
    if (progress) progress(double(e1) / double(E));
  }
  return at::cat(out);
}

void add_image_mean_ablation(HookSet& hooks) {
  hooks.add(HookKind::ImageFeatures, -1, [](HookCall& call) {
    call.value = call.value.mean(0, true).expand_as(call.value).contiguous();
  });
}

}  // namespace mechscope::probes
