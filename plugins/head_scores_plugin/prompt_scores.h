#pragma once
/// Head scores on one given token sequence (the user's prompt), where probes/head_scores.h scores
/// repeated random sequences. For every layer and head:
///   previous_token  = mean over positions q ≥ 1 of the attention from q to q - 1;
///   duplicate_token = mean over positions whose token occurred earlier of the attention to all
///                     its earlier occurrences;
///   induction       = mean over the same positions of the attention to the tokens that followed
///                     those earlier occurrences (positions before q only).
/// On [BOS, s, s] with distinct tokens in s these are head_scores' duplicate and induction scores.
#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mechscope {

class Model;

enum class HeadScoreKind { PreviousToken, DuplicateToken, Induction };

/// "previous_token", "duplicate_token" or "induction" → the kind; throws mechscope::Error else.
HeadScoreKind head_score_kind(const std::string& name);

/// The [n_layers, n_heads] scores of `kind` on `tokens`. Throws mechscope::Error when no position
/// qualifies (fewer than two tokens, or no repeated token for duplicate/induction scores).
at::Tensor prompt_head_scores(const Model& model, const std::vector<int64_t>& tokens,
                              HeadScoreKind kind);

}  // namespace mechscope
