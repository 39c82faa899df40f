#pragma once
/// Attention-pattern head scores on repeated random token sequences [BOS, s, s] (Olsson et al.;
/// TransformerLens's induction-score recipe): for every layer and head,
///   induction       = mean attention from a second-copy token to the token after its first copy,
///   previous_token  = mean attention to the previous position,
///   duplicate_token = mean attention from a second-copy token to its first copy.
#include <ATen/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct HeadScores {
  at::Tensor induction;        // [n_layers, n_heads]
  at::Tensor previous_token;   // [n_layers, n_heads]
  at::Tensor duplicate_token;  // [n_layers, n_heads]
  /// Mean attention from a second-copy token to the position `d` after its first copy, for d in
  /// kFirstOffset … kFirstOffset + n_offsets - 1: [n_layers, n_heads, n_offsets]. d = 0 is the
  /// duplicate-token score, d = 1 the induction score; larger d finds heads that look further
  /// ahead of the earlier copy.
  at::Tensor by_offset;
  static constexpr int64_t kFirstOffset = -1, kOffsets = 6;
};

/// Scores on `batch` sequences of `half` random tokens drawn from [min_token, d_vocab), each
/// repeated once, after a BOS token when the model has one.
HeadScores repeated_sequence_head_scores(const Model& model, int64_t batch, int64_t half,
                                         uint64_t seed, int64_t min_token = 0);
/// The same with tokens drawn from `pool` (e.g. the induction task's own tokens for a model
/// trained on it: heads are scored in distribution).
HeadScores repeated_sequence_head_scores(const Model& model, int64_t batch, int64_t half,
                                         uint64_t seed, const std::vector<int64_t>& pool);

/// The (layer, head) pairs of `scores` [n_layers, n_heads], best first.
std::vector<std::pair<int64_t, int64_t>> ranked_heads(const at::Tensor& scores);

}  // namespace mechscope::probes
