#pragma once
/// Retrieval heads (Wu et al. 2024, "Retrieval Head Mechanistically Explains Long-Context
/// Factuality"): on needle-in-a-haystack prompts over a grid of context lengths and needle
/// depths, the model greedily decodes the answer (until EOS, a newline or '.'); at every step, a head whose most-attended
/// position lies in the needle's answer span and holds the token just generated earns 1/|span|.
/// Scores are averaged over the instances whose answer the model recalls (ROUGE-1 recall > 50%).
#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "probes/probe.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct RetrievalOptions {
  std::vector<int64_t> lengths;  ///< haystack lengths in words (empty: three up to the context)
  std::vector<double> depths;    ///< needle depths in % (empty: 0, 10, …, 100)
  int64_t examples = 1;          ///< instances per (length, depth)
  uint64_t seed = 0;
  int64_t max_new_tokens = 3;
};

struct RetrievalScores {
  at::Tensor score;            ///< [n_layers, n_heads], mean over kept instances
  int64_t instances = 0, kept = 0;
  std::vector<double> recall;  ///< per instance
  std::vector<int64_t> lengths;
  std::vector<double> depths;
  /// The attention rows of every head at each decoding step of the best-scoring kept instance:
  /// [n_layers, n_heads, steps, positions] (zero past each step's length), and its tokens.
  at::Tensor pattern;
  std::vector<int64_t> pattern_tokens;
};

/// Scores every head. Needs one of mechscope's word-level models (the needle task's words).
RetrievalScores retrieval_head_scores(const Model& model, RetrievalOptions options,
                                      const Progress& progress = {});

/// One decoding step's contribution to every head's score: `attention` [n_layers, n_heads, T] is
/// the current query's attention, `tokens` the T positions' tokens, [span_begin, span_end) the
/// answer span and `generated` the token just produced. A head gains 1 / |span| when its
/// most-attended position lies in the span and holds `generated`. Returns [n_layers, n_heads].
at::Tensor retrieval_step(const at::Tensor& attention, const std::vector<int64_t>& tokens,
                          int64_t span_begin, int64_t span_end, int64_t generated);

/// ROUGE-1 recall: the share of `answer`'s tokens found in `response` (multiset overlap).
double rouge1_recall(const std::vector<int64_t>& answer, const std::vector<int64_t>& response);

/// "40, 80,120" → {40, 80, 120}; throws mechscope::Error naming `what` on a bad entry.
std::vector<double> parse_number_list(const std::string& text, const std::string& what);

}  // namespace mechscope::probes
