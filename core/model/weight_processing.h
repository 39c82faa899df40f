#pragma once
/// TransformerLens-compatible weight processing (`HookedTransformer.process_weights_`): rewrites a
/// model's weights so that log-probabilities are unchanged (raw logits move only by a constant per
/// position) while the weights read more cleanly.
///   fold_ln                 each norm's gain (and LayerNorm's bias) folded into the weights that
///                           read its output (W_Q/W_K/W_V, W_in/W_gate, W_U); for LayerNorm those
///                           read weights are then centred over d_model; the norms keep only
///                           their normalisation. Gemma's sandwich norms (ln1_post, ln2_post)
///                           and q/k norms keep their gains: their output goes straight to the
///                           residual stream or through RoPE, so no following weight absorbs them.
///   center_writing_weights  every weight writing to the residual stream (W_E, W_pos, W_O, b_O,
///                           W_out, b_out) centred over d_model (LayerNorm models only: RMSNorm
///                           does not remove the mean, so TransformerLens skips it there too)
///   center_unembed          W_U and b_U centred over the vocabulary (skipped, as in
///                           TransformerLens, when the logits are soft-capped: tanh is not
///                           invariant to a shift)
///   fold_value_biases       b_V folded into b_O (Σ_h b_V[h] W_O[h]); b_V = 0
#include <string>
#include <vector>

namespace mechscope {

class Model;

struct WeightProcessing {
  bool fold_ln = false;
  bool center_writing_weights = false;
  bool center_unembed = false;
  bool fold_value_biases = false;

  bool any() const { return fold_ln || center_writing_weights || center_unembed || fold_value_biases; }
  /// The names of the steps that are on, in the order they are applied.
  std::vector<std::string> names() const;
  /// "fold_ln,center_writing_weights,..." (also "none" and "all"); throws mechscope::Error naming
  /// an unknown step and listing the known ones.
  static WeightProcessing parse(const std::string& list);
};

/// Applies `steps` to `model` in TransformerLens's order (fold_ln, center_writing_weights,
/// center_unembed, fold_value_biases). A tied unembedding is untied first. Returns the steps that
/// were applied (center_writing_weights is skipped for RMSNorm models, center_unembed for
/// soft-capped logits) and records them in the model (Model::processing()). Throws
/// mechscope::Error for an encoder (no unembedding).
std::vector<std::string> process_weights(Model& model, const WeightProcessing& steps);

}  // namespace mechscope
