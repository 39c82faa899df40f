#include "plugins/head_scores_plugin/prompt_scores.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

/// [pos, pos]: 1 where query q (row) should attend for `kind`, else 0.
at::Tensor target_mask(const std::vector<int64_t>& tokens, HeadScoreKind kind) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  at::Tensor mask = at::zeros({n, n}, at::kFloat);
  auto m = mask.accessor<float, 2>();
  for (int64_t q = 1; q < n; ++q) {
    if (kind == HeadScoreKind::PreviousToken) {
      m[q][q - 1] = 1.0f;
      continue;
    }
    for (int64_t j = 0; j < q; ++j) {
      if (tokens[j] != tokens[q]) continue;
      if (kind == HeadScoreKind::DuplicateToken)
        m[q][j] = 1.0f;
      else if (j + 1 < q)
        m[q][j + 1] = 1.0f;
    }
  }
  return mask;
}

}  // namespace

HeadScoreKind head_score_kind(const std::string& name) {
  if (name == "previous_token") return HeadScoreKind::PreviousToken;
  if (name == "duplicate_token") return HeadScoreKind::DuplicateToken;
  if (name == "induction") return HeadScoreKind::Induction;
  throw Error("Unknown head score kind '" + name +
              "'; use previous_token, duplicate_token or induction.");
}

at::Tensor prompt_head_scores(const Model& model, const std::vector<int64_t>& tokens,
                              HeadScoreKind kind) {
  const at::Tensor mask = target_mask(tokens, kind);                // [pos, pos]
  const at::Tensor rows = mask.sum(1).gt(0).nonzero().reshape(-1);  // [n_scored]
  if (rows.numel() == 0)
    throw Error(kind == HeadScoreKind::PreviousToken
                    ? "The prompt needs at least two tokens for previous-token scores."
                    : "The prompt repeats no token, so it has no duplicate-token or induction "
                      "positions; use a prompt with repeated text or the random_repeat source.");
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  std::vector<at::Tensor> per_layer(c.n_layers);
  HookSet hooks;
  hooks.add(HookKind::Pattern, HookSet::kEveryLayer, [&](HookCall& h) {
    at::Tensor p = h.value.to(at::kCPU).to(at::kFloat)[0];   // [head, q, k]
    at::Tensor hit = (p * mask).sum(2);                      // [head, q]
    per_layer[h.layer] = hit.index_select(1, rows).mean(1);  // [head]
  });
  const at::Tensor input = at::tensor(tokens, at::kLong).view({1, -1}).to(model.device());
  model.run(input, {}, &hooks);
  return at::stack(per_layer);  // [n_layers, n_heads]
}

}  // namespace mechscope
