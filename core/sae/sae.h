#pragma once
/// Sparse autoencoders on a hook point, as SAELens defines them: encode an activation x [..., d_in]
/// into latents f [..., d_sae], decode them back into x̂. Architectures `standard` (ReLU), `topk`
/// and `jumprelu`; `apply_b_dec_to_input` and `normalize_activations` as in SAELens 6.x.
/// Loading and saving SAELens folders is core/sae/sae_io.h; splicing into a forward pass is
/// core/sae/sae_hooks.h. Qt-free.
#include <ATen/Tensor.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace mechscope {
class Model;
}

namespace mechscope::sae {

enum class Architecture { Standard, TopK, JumpReLU };

/// "standard", "topk", "jumprelu" (SAELens' names).
const char* architecture_name(Architecture a);
/// Throws mechscope::Error listing the known names.
Architecture parse_architecture(const std::string& name);

struct SaeConfig {
  Architecture architecture = Architecture::Standard;
  int64_t d_in = 0;
  int64_t d_sae = 0;
  int64_t k = 0;               ///< topk: latents kept per position.
  /// topk: the pre-activations are multiplied by ‖W_dec[i]‖ before the top k are chosen, and the
  /// kept activations divided by it before decoding (SAELens' TopKSAEConfig field).
  bool rescale_acts_by_decoder_norm = false;
  std::string hook_name;       ///< e.g. "blocks.3.hook_resid_pre" (TransformerLens name).
  std::string model_name;      ///< the model it was trained on, when the cfg says (metadata).
  /// Subtract b_dec from the input before encoding. SAELens' default is true: load_sae takes a
  /// cfg.json without the field as true.
  bool apply_b_dec_to_input = false;
  /// "none", "expected_average_only_in", "constant_norm_rescale", "layer_norm" or
  /// "covariance_whitening" (SAELens). At inference only constant_norm_rescale and layer_norm do
  /// something; the others' factors are folded into the weights when training ends.
  std::string normalize_activations = "none";
  /// Every other field of the cfg.json it was read from, as SAELens 6 nests them: top-level
  /// fields (dtype, device, reshape_activations, hook_layer, …) at the top and the metadata
  /// fields other than hook_name / model_name (context_size, dataset_path, sae_lens_version, …)
  /// under "metadata", whichever layout the file had. Saving writes them back.
  nlohmann::json extra = nlohmann::json::object();
};

/// An SAE's weights and config. Tensors live on one device in one dtype (f32 by default).
struct Sae {
  SaeConfig cfg;
  at::Tensor W_enc;      ///< [d_in, d_sae]
  at::Tensor W_dec;      ///< [d_sae, d_in]
  at::Tensor b_enc;      ///< [d_sae]
  at::Tensor b_dec;      ///< [d_in]
  at::Tensor threshold;  ///< [d_sae], jumprelu only (undefined otherwise)

  /// Latent activations [..., d_sae] of x [..., d_in] (after normalisation and b_dec, as SAELens).
  at::Tensor encode(const at::Tensor& x) const;
  /// Reconstruction [..., d_in] of latents [..., d_sae] (normalisation undone for `x`, whose
  /// norm statistics constant_norm_rescale / layer_norm need; pass the encoded input).
  at::Tensor decode(const at::Tensor& f, const at::Tensor& x) const;
  /// decode(encode(x), x).
  at::Tensor reconstruct(const at::Tensor& x) const;
  /// Feature `i`'s decoder direction [d_in].
  at::Tensor direction(int64_t i) const;

  void to(at::Device device, at::ScalarType dtype = at::kFloat);
  /// Throws mechscope::Error unless every tensor has the shape the config says (names the
  /// tensor, both shapes and `where`, e.g. the folder), k is in 1…d_sae (topk) and
  /// normalize_activations is one SAELens knows.
  void check_shapes(const std::string& where) const;
};

/// Whether SAELens 6 knows this normalize_activations value.
bool known_normalization(const std::string& name);

/// A hook point's activation [batch, position, …] as the SAE reads it, [batch, position, d_in]:
/// per-head points ([batch, position, n_heads, d_head], e.g. hook_z) are flattened, as SAELens'
/// hook_z SAEs read them. Throws mechscope::Error naming the hook, d_in and the shape otherwise.
at::Tensor sae_input(const Sae& sae, const at::Tensor& activation);

/// Throws mechscope::Error naming the SAE's hook and d_in and the model's when the model has no
/// such hook point or its width there is not d_in.
void check_fits(const Sae& sae, const Model& model);

}  // namespace mechscope::sae
