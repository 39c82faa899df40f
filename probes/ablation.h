#pragma once
/// Head ablation as hooks: a head's output (its slice of hook_z) is replaced by zeros, or by its
/// mean over batch and positions, in every forward pass that carries the hooks.
#include <cstdint>
#include <utility>
#include <vector>

#include "core/model/hooks.h"

namespace mechscope::probes {

enum class AblationKind { Zero, Mean };

/// Adds to `hooks` uniform attention for `heads`: each chosen head attends equally to every
/// position it may attend to (causal, window, padding rules kept) — its pre-softmax scores are
/// set to one constant, the masking of Wu et al.'s retrieval-head experiments.
void add_uniform_attention(HookSet& hooks, const std::vector<std::pair<int64_t, int64_t>>& heads);

/// Adds to `hooks` the ablation of `heads` ((layer, head) pairs).
void add_head_ablation(HookSet& hooks, const std::vector<std::pair<int64_t, int64_t>>& heads,
                       AblationKind kind = AblationKind::Mean);

}  // namespace mechscope::probes
