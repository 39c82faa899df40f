#pragma once
/// Attention-pattern head scores with TransformerLens `head_detector` semantics (detect_head):
/// a detection pattern D [query, key] per sequence, and for each head either
///   mul: Σ A·D / Σ A                          (the share of attention on D's cells), or
///   abs: 1 − round(Σ |A − D| / T, 3)           (1 = A equals D),
/// where A is the head's attention pattern with the BOS column and/or the diagonal zeroed when
/// asked (for abs: those cells of |A − D|), averaged over the sequences. The patterns:
///   previous_token  D[i, i−1] = 1,
///   duplicate_token D[i, j] = 1 for j < i holding the same token as i,
///   induction       D[i, j] = 1 when j − 1 < i holds the token of i (the duplicate pattern
///                   shifted one key to the right),
/// and the shifted-induction family D_d[i, j] = duplicate[i, j − d] (d = 0 duplicate, d = 1
/// induction, d > 1 heads that read further past the earlier occurrence).
#include <ATen/Tensor.h>

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct DetectorOptions {
  bool exclude_bos = true;  ///< Zero attention to position 0 (TransformerLens' default: false).
  bool exclude_current_token = false;
  bool abs_measure = false;  ///< TransformerLens' "abs" error measure (else "mul").
  int64_t max_offset = 4;    ///< by_offset holds d = 0 … max_offset.
  /// Queries before this position are left out (their rows zeroed, as excluded cells are): on
  /// [BOS, s, s], 1 + |s| scores the second copy only — the induction score of TransformerLens'
  /// main demo — instead of detect_head's every row.
  int64_t first_query = 0;
};

struct HeadScores {
  at::Tensor previous_token;   // [n_layers, n_heads]
  at::Tensor duplicate_token;  // [n_layers, n_heads]
  at::Tensor induction;        // [n_layers, n_heads]
  at::Tensor by_offset;        // [n_layers, n_heads, max_offset + 1]
  at::Tensor first_pattern;    // [n_layers, n_heads, T, T]: the attention on sequence 0
};

/// Scores every head on `tokens` [batch, T] (one forward pass; the mean over the batch, as
/// TransformerLens' detect_head over a list of prompts). `progress` (may be empty) gets the
/// fraction of layers done.
HeadScores detect_heads(const Model& model, const at::Tensor& tokens,
                        const DetectorOptions& options = {},
                        const std::function<void(double)>& progress = {});

/// `batch` sequences [BOS, s, s]: `half` tokens drawn with replacement from `pool` (empty: every
/// id of the vocabulary but BOS, EOS, the image token and "<…>" control tokens such as <pad>,
/// <unk> or <|endoftext|>), repeated once; no BOS (see repeats_have_bos)
/// when the model has none. Throws mechscope::Error when 2 half (+ BOS) exceeds the context.
at::Tensor repeated_random_tokens(const Model& model, int64_t batch, int64_t half, uint64_t seed,
                                  const std::vector<int64_t>& pool = {});

/// Whether repeated sequences start with BOS: the model has a BOS id inside its vocabulary.
bool repeats_have_bos(const Model& model);

/// detect_heads on repeated_random_tokens (DetectorOptions::first_query as given).
HeadScores repeated_sequence_head_scores(const Model& model, int64_t batch, int64_t half,
                                         uint64_t seed, const std::vector<int64_t>& pool = {},
                                         const DetectorOptions& options = {});

/// The (layer, head) pairs of `scores` [n_layers, n_heads], best first.
std::vector<std::pair<int64_t, int64_t>> ranked_heads(const at::Tensor& scores);

}  // namespace mechscope::probes
