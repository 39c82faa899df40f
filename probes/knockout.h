#pragma once
/// Attention knockout as hooks (Geva et al. 2023, "Dissecting Recall of Factual Associations"):
/// in the chosen layers, queries may no longer attend to a range of key positions. The blocked
/// weights are removed and each row renormalised — the same as setting those attention scores to
/// −inf before the softmax.
#include <cstdint>
#include <vector>

#include "core/model/hooks.h"

namespace mechscope::probes {

struct PositionRange {
  int64_t begin = 0, end = 0;  // [begin, end)
};

/// Adds to `hooks`, for every layer in `layers`, the knockout of edges from queries in `queries`
/// to keys in `keys` (positions past the sequence's end are ignored), in every head.
void add_attention_knockout(HookSet& hooks, const std::vector<int64_t>& layers,
                            PositionRange queries, PositionRange keys);

/// Adds to `hooks` the mean-ablation of a vision-language model's image features: every image's
/// projected features (hook_image_features) are replaced by their mean over the batch, so the
/// language model sees an "average image" in place of each real one.
void add_image_mean_ablation(HookSet& hooks);

}  // namespace mechscope::probes
