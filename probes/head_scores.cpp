#include "probes/head_scores.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>

#include "core/model/model.h"
#include "core/util/error.h"

namespace mechscope::probes {

namespace {

/// One layer's scores [batch, head] for one detection pattern `d` [batch, T, T] (0/1).
at::Tensor similarity(const at::Tensor& pattern, const at::Tensor& d, const DetectorOptions& o) {
  const int64_t T = pattern.size(-1);
  at::Tensor keep = at::ones({T, T}, pattern.options());
  if (o.exclude_bos) keep.select(1, 0).zero_();
  if (o.exclude_current_token) keep.diagonal().zero_();
  if (o.first_query > 0) keep.slice(0, 0, std::min(o.first_query, T)).zero_();
  const at::Tensor dd = d.unsqueeze(1);  // [batch, 1, T, T]
  if (!o.abs_measure) {
    const at::Tensor a = pattern * keep;
    return (a * dd).sum({-2, -1}) / a.sum({-2, -1});
  }
  // 1 - round(mean |A - D| * T, 3), TransformerLens' rounding included.
  const at::Tensor raw = ((pattern - dd).abs() * keep).sum({-2, -1}) / double(T);
  return 1.0 - (raw * 1000.0).round() / 1000.0;
}

}  // namespace

HeadScores detect_heads(const Model& model, const at::Tensor& tokens_in,
                        const DetectorOptions& o, const std::function<void(double)>& progress) {
  const ModelConfig& c = model.config();
  if (tokens_in.dim() != 2 || tokens_in.size(1) < 2)
    throw Error("Head detection needs at least two tokens per sequence.");
  if (o.max_offset < 1) throw Error("max_offset must be at least 1.");
  c10::InferenceMode guard;
  const at::Tensor tokens = tokens_in.to(at::kCPU).to(at::kLong);
  const int64_t T = tokens.size(1);
  // Detection patterns [batch, T, T] (float 0/1), lower triangular.
  const at::Tensor same = tokens.unsqueeze(2) == tokens.unsqueeze(1);
  const at::Tensor duplicate = same.to(at::kFloat).tril(-1);
  std::vector<at::Tensor> shifted;  // d = 0 .. max_offset
  for (int64_t d = 0; d <= o.max_offset; ++d) {
    at::Tensor s = at::zeros_like(duplicate);
    if (d < T) s.slice(2, d, T).copy_(duplicate.slice(2, 0, T - d));
    shifted.push_back(s.tril());
  }
  const at::Tensor previous =
      at::diag_embed(at::ones({T - 1}), -1).unsqueeze(0).expand_as(duplicate);

  std::vector<at::Tensor> prev(c.n_layers), offs(c.n_layers), first(c.n_layers);
  int done = 0;
  HookSet hooks;
  hooks.add(HookKind::Pattern, HookSet::kEveryLayer, [&](HookCall& h) {
    const at::Tensor p = h.value.to(at::kCPU).to(at::kFloat);  // [batch, head, q, k]
    prev[h.layer] = similarity(p, previous, o).mean(0);
    std::vector<at::Tensor> by_d;
    for (const auto& s : shifted) by_d.push_back(similarity(p, s, o).mean(0));
    offs[h.layer] = at::stack(by_d, 1);  // [head, offsets]
    first[h.layer] = p[0];
    if (progress) progress(double(++done) / double(c.n_layers));
  });
  model.run(tokens.to(model.device()), {}, &hooks);
  HeadScores out;
  out.previous_token = at::stack(prev);
  out.by_offset = at::stack(offs);
  out.duplicate_token = out.by_offset.select(2, 0).contiguous();
  out.induction = out.by_offset.select(2, 1).contiguous();
  out.first_pattern = at::stack(first);
  return out;
}

bool repeats_have_bos(const Model& model) {
  const auto bos = model.config().bos_token_id;
  return bos && *bos >= 0 && *bos < model.config().d_vocab;
}

at::Tensor repeated_random_tokens(const Model& model, int64_t batch, int64_t half, uint64_t seed,
                                  const std::vector<int64_t>& pool_in) {
  const ModelConfig& c = model.config();
  if (batch < 1 || half < 1) throw Error("Repeated sequences need at least one token and one sequence.");
  const int64_t bos = repeats_have_bos(model) ? 1 : 0;
  if (2 * half + bos > c.n_ctx)
    throw Error("Sequences of 2 × " + std::to_string(half) + " tokens" + (bos ? " after BOS" : "") +
                " do not fit the model's context of " + std::to_string(c.n_ctx) + ".");
  std::vector<int64_t> pool = pool_in;
  if (pool.empty()) {
    std::vector<int64_t> skip;
    for (auto id : {c.bos_token_id, c.eos_token_id, model.image_token_id()})
      if (id) skip.push_back(*id);
    const Tokenizer* tok = model.tokenizer();
    auto control = [&](int64_t id) {  // <pad>, <unk>, <|endoftext|>, <0x0A>, …
      if (tok == nullptr || id >= tok->vocab_size()) return false;
      const std::string s = tok->token_string(id);
      return s.size() >= 3 && s.front() == '<' && s.back() == '>';
    };
    for (int64_t i = 0; i < c.d_vocab; ++i)
      if (std::find(skip.begin(), skip.end(), i) == skip.end() && !control(i)) pool.push_back(i);
  }
  if (pool.empty()) throw Error("There are no tokens to draw repeated sequences from.");
  at::Generator gen = at::detail::createCPUGenerator(seed);
  at::Tensor index = at::randint(0, int64_t(pool.size()), {batch, half}, gen, at::kLong);
  at::Tensor s = at::tensor(pool, at::kLong).index_select(0, index.reshape(-1)).view({batch, half});
  std::vector<at::Tensor> parts;
  if (bos) parts.push_back(at::full({batch, 1}, *c.bos_token_id, at::kLong));
  parts.push_back(s);
  parts.push_back(s);
  return at::cat(parts, 1);
}

HeadScores repeated_sequence_head_scores(const Model& model, int64_t batch, int64_t half,
                                         uint64_t seed, const std::vector<int64_t>& pool,
                                         const DetectorOptions& options) {
  return detect_heads(model, repeated_random_tokens(model, batch, half, seed, pool), options);
}

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
