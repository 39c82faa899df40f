#include "probes/knockout.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "core/model/model.h"
#include "core/model/rotary.h"
#include "probes/patching.h"
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
  if (blocked.size(1) == T && blocked.size(2) == S) return blocked;  // already aligned
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
                                  const at::Tensor& blocked_in, const at::Tensor& layers,
                                  const std::function<void(double)>& progress) {
  const ModelConfig& c = model.config();
  const int64_t E = layers.size(0), T = int64_t(tokens.size());
  const at::Tensor blocked = blocked_in.to(at::kCPU).to(at::kBool);
  // Nothing changes before an experiment's first blocked layer, nor at positions before its
  // first blocked query (causal attention): each experiment starts there, from the clean run's
  // residual stream, with the clean keys and values of the earlier positions as a prefix (what
  // the activation-patching sweep does). A sliding window could hide prefix keys: such models
  // recompute every position.
  const KindCache clean = run_with_kinds(model, prompt_tensor(model, tokens),
                                         {HookKind::ResidPre, HookKind::K, HookKind::V}, false,
                                         pixels);
  const double p_clean =
      at::softmax(clean.logits.select(1, -1).to(at::kFloat), -1)[0][answer].item<double>();
  const bool suffixes = !c.sliding_window && c.causal;
  const at::Tensor layer_on = layers.to(at::kCPU).to(at::kBool);
  const at::Tensor query_on = blocked.any(2);  // [rows or 1, T]
  struct Job {
    int64_t index, layer, pos;
  };
  std::vector<Job> jobs;
  at::Tensor out = at::full({E}, p_clean, at::kFloat);
  for (int64_t e = 0; e < E; ++e) {
    const at::Tensor lw = layer_on[e].nonzero();
    const at::Tensor qs = query_on[blocked.size(0) == 1 ? 0 : e].nonzero();
    if (lw.numel() == 0 || qs.numel() == 0) continue;  // blocks nothing: the clean run
    jobs.push_back({e, lw.min().item<int64_t>(), suffixes ? qs.min().item<int64_t>() : 0});
  }
  // A forward pass reads every weight of its layers once, whatever its rows: rows share passes
  // (a row that starts later just repeats clean layers first), grouped by first position.
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
    return a.pos != b.pos ? a.pos < b.pos : a.layer < b.layer;
  });
  const int64_t chunk = sweep_batch_size(model, T, 128);
  const bool rotary = c.positional == Positional::Rotary;
  size_t done = 0;
  for (size_t j0 = 0; j0 < jobs.size();) {
    size_t j1 = j0;
    while (j1 < jobs.size() && int64_t(j1 - j0) < chunk && jobs[j1].pos == jobs[j0].pos) ++j1;
    const int64_t rn = int64_t(j1 - j0), s = jobs[j0].pos;
    int64_t layer = jobs[j0].layer;
    for (size_t j = j0; j < j1; ++j) layer = std::min(layer, jobs[j].layer);
    std::vector<int64_t> rows;
    for (size_t j = j0; j < j1; ++j) rows.push_back(jobs[j].index);
    const at::Tensor idx = at::tensor(rows, at::kLong);
    // The rows' masks for queries s… over every key, and their layers.
    const at::Tensor masks =
        (blocked.size(0) == 1 ? blocked.expand({rn, T, T}) : blocked.index_select(0, idx))
            .slice(1, s, T)
            .contiguous();
    HookSet hooks;
    add_attention_knockout(hooks, masks.to(model.device()), layer_on.index_select(0, idx));
    if (s > 0) {
      std::vector<at::Tensor> prefix_k(c.n_layers), prefix_v(c.n_layers);
      at::Tensor cos, sin;
      if (rotary) {
        const at::Tensor rel =
            at::arange(-s, 0, at::TensorOptions().dtype(at::kLong)).to(model.device()).view({1, s});
        std::tie(cos, sin) = rotary_tables(c, rel);
      }
      for (int64_t l = layer; l < c.n_layers; ++l) {
        at::Tensor kp = clean.at(HookKind::K, int(l)).slice(1, 0, s);
        if (rotary) kp = apply_rotary(kp, cos, sin, c.rotary_dim);
        prefix_k[l] = kp.expand({rn, s, kp.size(2), kp.size(3)});
        const at::Tensor vp = clean.at(HookKind::V, int(l)).slice(1, 0, s);
        prefix_v[l] = vp.expand({rn, s, vp.size(2), vp.size(3)});
      }
      hooks.add(rotary ? HookKind::RotK : HookKind::K, HookSet::kEveryLayer,
                [prefix_k](HookCall& h) { h.value = at::cat({prefix_k[h.layer], h.value}, 1); });
      hooks.add(HookKind::V, HookSet::kEveryLayer,
                [prefix_v](HookCall& h) { h.value = at::cat({prefix_v[h.layer], h.value}, 1); });
    }
    hooks.add(HookKind::LnFinalScale, -1, [](HookCall& h) { h.stop = true; });
    const at::Tensor start =
        clean.at(HookKind::ResidPre, int(layer)).slice(1, s).expand({rn, T - s, c.d_model});
    const ForwardOutput f = model.run_from(int(layer), start, {}, &hooks);
    const at::Tensor p = at::softmax(model.unembed(f.resid.select(1, -1)).to(at::kFloat), -1)
                             .select(1, answer)
                             .to(at::kCPU);
    out.index_copy_(0, idx, p);
    done += size_t(rn);
    if (progress) progress(double(done) / double(std::max<size_t>(1, jobs.size())));
    j0 = j1;
  }
  return out;
}

void add_image_mean_ablation(HookSet& hooks) {
  hooks.add(HookKind::ImageFeatures, -1, [](HookCall& call) {
    call.value = call.value.mean(0, true).expand_as(call.value).contiguous();
  });
}

}  // namespace mechscope::probes
