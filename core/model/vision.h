#pragma once
/// The vision side of a vision-language model (LLaVA layout): a CLIP-style vision tower (an
/// encoder run by the same hooked transformer, hook names prefixed "vision."), feature-layer
/// selection, and the multimodal projector that maps patch features into the language model.
#include <ATen/Tensor.h>

#include <array>
#include <filesystem>
#include <memory>

#include "core/model/hooks.h"
#include "core/model/model.h"

namespace mechscope {

/// Image preprocessing as `preprocessor_config.json` (CLIPImageProcessor) says.
struct ImagePreprocess {
  int64_t shortest_edge = 0;  // resize so the shorter side has this length (0 = no resize)
  int64_t crop_height = 0, crop_width = 0;  // centre crop (0 = none)
  double rescale = 1.0 / 255.0;
  std::array<float, 3> mean = {0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std = {0.26862954f, 0.26130258f, 0.27577711f};
};

/// Reads preprocessor_config.json; throws mechscope::Error naming the file.
ImagePreprocess read_preprocessor_config(const std::filesystem::path& path);

/// RGB bytes [height, width, 3] → pixel values [3, H, W] (bilinear resize of the shorter side,
/// centre crop, rescale, normalise).
at::Tensor preprocess_image(const uint8_t* rgb, int64_t height, int64_t width,
                            const ImagePreprocess& p);

/// The encoder configuration of a CLIP vision tower (non-causal, LayerNorm, learned positions
/// for the class token + patches, a LayerNorm on the embeddings, biases everywhere).
ModelConfig clip_tower_config(int64_t d_model, int64_t n_layers, int64_t n_heads, int64_t d_mlp,
                              int64_t positions, double eps, Activation act);

struct VisionConfig {
  int64_t image_size = 0, patch_size = 0, channels = 3;
  int64_t feature_layer = -2;  // HF vision_feature_layer (index into hidden_states)
  bool keep_class_token = false;  // select strategy "full" (else "default": drop it)
  Activation projector_act = Activation::Gelu;
  int64_t patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

class VisionEncoder {
 public:
  /// `tower` is an encoder Model (hook prefix "vision."); `patch_w` [D, C, P, P], `class_embed`
  /// [D], projector weights [d_text, D] / [d_text, d_text] (biases may be undefined).
  VisionEncoder(VisionConfig cfg, std::unique_ptr<Model> tower, at::Tensor patch_w,
                at::Tensor class_embed, at::Tensor proj1_w, at::Tensor proj1_b, at::Tensor proj2_w,
                at::Tensor proj2_b, ImagePreprocess preprocess);

  const VisionConfig& config() const { return cfg_; }
  const Model& tower() const { return *tower_; }
  const ImagePreprocess& preprocess() const { return preprocess_; }
  /// Image tokens each image becomes in the language model's sequence.
  int64_t tokens_per_image() const { return cfg_.patches() + (cfg_.keep_class_token ? 1 : 0); }

  /// pixel values [batch, 3, S, S] → image features [batch, tokens_per_image, d_text]. Hooks
  /// named "vision.…" see the tower; "hook_image_features" sees (and may replace) the result.
  /// Returns an undefined tensor when a hook stopped the run.
  at::Tensor features(const at::Tensor& pixel_values, const HookSet* hooks) const;

  void to(const at::TensorOptions& options);
  /// Every tensor of the vision side (tower, patch and class embeddings, projector), named.
  std::vector<std::pair<std::string, at::Tensor*>> named_tensors();
  Model& tower() { return *tower_; }
  const at::Tensor& patch_weight() const { return patch_w_; }    // [D, C, P, P]
  const at::Tensor& class_embedding() const { return class_embed_; }  // [D]
  const at::Tensor& projector1_weight() const { return proj1_w_; }  // [d_text, D]
  const at::Tensor& projector1_bias() const { return proj1_b_; }
  const at::Tensor& projector2_weight() const { return proj2_w_; }  // [d_text, d_text]
  const at::Tensor& projector2_bias() const { return proj2_b_; }
  /// Hook names of the vision side, in forward order.
  std::vector<std::string> hook_names() const;

 private:
  VisionConfig cfg_;
  std::unique_ptr<Model> tower_;
  at::Tensor patch_w_, class_embed_, proj1_w_, proj1_b_, proj2_w_, proj2_b_;
  ImagePreprocess preprocess_;
};

}  // namespace mechscope
