#include "probes/head_scores.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/error.h"

namespace mechscope::probes {

namespace {

HeadScores score_sequences(const Model& model, const at::Tensor& half_tokens);

}  // namespace

HeadScores repeated_sequence_head_scores(const Model& model, int64_t batch, int64_t half,
                                         uint64_t seed, int64_t min_token) {
  if (min_token >= model.config().d_vocab) throw Error("min_token is outside the vocabulary.");
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return score_sequences(
      model, at::randint(min_token, model.config().d_vocab, {batch, half}, gen, at::kLong));
}

HeadScores repeated_sequence_head_scores(const Model& model, int64_t batch, int64_t half,
                                         uint64_t seed, const std::vector<int64_t>& pool) {
  if (pool.empty()) throw Error("The token pool for head scores is empty.");
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor index = at::randint(0, int64_t(pool.size()), {batch, half}, gen, at::kLong);
  return score_sequences(model, at::tensor(pool, at::kLong).index_select(0, index.reshape(-1))
                                    .view({batch, half}));
}

namespace {

HeadScores score_sequences(const Model& model, const at::Tensor& half_tokens) {
  const ModelConfig& c = model.config();
  const int64_t batch = half_tokens.size(0), half = half_tokens.size(1);
  const int64_t bos = c.bos_token_id.value_or(-1) >= 0 ? 1 : 0;
  if (2 * half + bos > c.n_ctx) throw Error("The repeated sequence does not fit the context.");
  c10::InferenceMode guard;
  std::vector<at::Tensor> parts;
  if (bos) parts.push_back(at::full({batch, 1}, *c.bos_token_id, at::kLong));
  parts.push_back(half_tokens);
  parts.push_back(half_tokens);
  at::Tensor tokens = at::cat(parts, 1);  // [batch, bos + 2 half]

  const int64_t T = tokens.size(1);
  at::Tensor q = at::arange(bos + half, T, at::kLong);  // second-copy query positions
  std::vector<at::Tensor> ind(c.n_layers), prev(c.n_layers), dup(c.n_layers), offs(c.n_layers);
  HookSet hooks;
  hooks.add(HookKind::Pattern, HookSet::kEveryLayer, [&](HookCall& h) {
              at::Tensor p = h.value.to(at::kCPU).to(at::kFloat);  // [batch, head, q, k]
              at::Tensor rows = p.index_select(2, q);               // [batch, head, half, k]
              auto pick = [&](const at::Tensor& k) {                // mean of p[q, k(q)]
                return rows.gather(3, k.view({1, 1, -1, 1}).expand({p.size(0), p.size(1), -1, 1}))
                    .squeeze(3)
                    .mean(at::IntArrayRef{0, 2});  // [head]
              };
              ind[h.layer] = pick(q - half + 1);
              prev[h.layer] = pick(q - 1);
              dup[h.layer] = pick(q - half);
              std::vector<at::Tensor> by_d;
              for (int64_t d = 0; d < HeadScores::kOffsets; ++d)
                // Clamped into the sequence: for very short repeats an offset may run off it.
                by_d.push_back(
                    pick((q - half + HeadScores::kFirstOffset + d).clamp(0, p.size(3) - 1)));
              offs[h.layer] = at::stack(by_d, 1);  // [head, offsets]
            });
  model.run(tokens, {}, &hooks);
  return {at::stack(ind), at::stack(prev), at::stack(dup), at::stack(offs)};
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> ranked_heads(const at::Tensor& scores) {
  at::Tensor flat = scores.reshape(-1).to(at::kCPU);
  at::Tensor order = flat.argsort(0, true).contiguous();
  const auto idx_of = order.accessor<int64_t, 1>();
  std::vector<std::pair<int64_t, int64_t>> out;
  const int64_t heads = scores.size(1);
  for (int64_t i = 0; i < order.numel(); ++i) {
    const int64_t idx = idx_of[i];
    out.emplace_back(idx / heads, idx % heads);
  }
  return out;
}

}  // namespace mechscope::probes
