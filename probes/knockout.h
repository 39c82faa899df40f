#pragma once
/// Attention knockout as hooks (Geva et al. 2023, "Dissecting Recall of Factual Associations"):
/// in chosen layers, chosen queries may no longer attend to chosen keys — the lowest finite value
/// is put in those pre-softmax attention scores (blocks.L.attn.hook_attn_scores) of every head,
/// so their attention weights become zero and each row's other weights renormalise (exactly, as
/// −∞ would, with no underflow). A query left with no key attends to nothing (zero weights).
#include <ATen/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/model/hooks.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct PositionRange {
  int64_t begin = 0, end = 0;  // [begin, end)
};

/// The general, batched form. `blocked` [rows or 1, query, key] (bool): the edges to remove;
/// `layers` [rows, n_layers] (bool): in which layers each row of the batch has them removed.
/// Rows of the batch are independent experiments (e.g. one window per row).
void add_attention_knockout(HookSet& hooks, const at::Tensor& blocked, const at::Tensor& layers);

/// Every row the same: edges from queries in `queries` to keys in `keys` (positions past the
/// sequence's end are ignored), in every layer of `layers`.
void add_attention_knockout(HookSet& hooks, const std::vector<int64_t>& layers,
                            PositionRange queries, PositionRange keys);

/// The layers of a window of `window` layers centred on `centre` (Geva et al.: [ℓ − ⌊(w−1)/2⌋,
/// ℓ + ⌈(w−1)/2⌉]), clipped to the model; empty for window 0.
std::vector<int64_t> window_layers(int64_t centre, int64_t window, int64_t n_layers);

/// [T, T] bool: the edges from keys `from` to queries `to` (Geva et al.'s source → target).
at::Tensor edge_mask(int64_t T, const std::vector<int64_t>& from, const std::vector<int64_t>& to);

/// The answer's probability at the last position with each experiment's knockout: experiment e
/// blocks `blocked[e]` ([experiments or 1, T, T]) in the layers `layers[e]` ([experiments,
/// n_layers] bool). One prompt (`pixels`: its image or undefined), many experiments, in batched
/// forward passes sized to the free memory. `progress` gets the fraction done. Returns
/// [experiments] (float, CPU).
at::Tensor knockout_probabilities(const Model& model, const std::vector<int64_t>& tokens,
                                  const at::Tensor& pixels, int64_t answer,
                                  const at::Tensor& blocked, const at::Tensor& layers,
                                  const std::function<void(double)>& progress = {});

/// Adds to `hooks` the mean-ablation of a vision-language model's image features: every image's
/// projected features (hook_image_features) are replaced by their mean over the batch, so the
/// language model sees an "average image" in place of each real one.
void add_image_mean_ablation(HookSet& hooks);

}  // namespace mechscope::probes
