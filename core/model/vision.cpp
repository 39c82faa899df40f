#include "core/model/vision.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "core/io/mapped_file.h"
#include "core/model/activation.h"
#include "core/util/error.h"
#include "core/util/gemm.h"

namespace mechscope {

ImagePreprocess read_preprocessor_config(const std::filesystem::path& path) {
  ImagePreprocess p;
  try {
    auto j = nlohmann::json::parse(read_text_file(path));
    if (j.value("do_resize", true) && j.contains("size")) {
      const auto& s = j["size"];
      if (s.is_number()) p.shortest_edge = s.get<int64_t>();
      else if (s.contains("shortest_edge")) p.shortest_edge = s["shortest_edge"].get<int64_t>();
      else if (s.contains("height")) p.shortest_edge = s["height"].get<int64_t>();
    }
    if (j.value("do_center_crop", false) && j.contains("crop_size")) {
      const auto& c = j["crop_size"];
      if (c.is_number()) {
        p.crop_height = p.crop_width = c.get<int64_t>();
      } else {
        p.crop_height = c.at("height").get<int64_t>();
        p.crop_width = c.at("width").get<int64_t>();
      }
    }
    p.rescale = j.value("do_rescale", true) ? j.value("rescale_factor", 1.0 / 255.0) : 1.0;
    if (j.value("do_normalize", true)) {
      if (j.contains("image_mean"))
        for (int c = 0; c < 3; ++c) p.mean[c] = j["image_mean"].at(c).get<float>();
      if (j.contains("image_std"))
        for (int c = 0; c < 3; ++c) p.std[c] = j["image_std"].at(c).get<float>();
    } else {
      p.mean = {0, 0, 0};
      p.std = {1, 1, 1};
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("Invalid image preprocessor configuration " + path.string() + ": " + e.what() +
                ".");
  }
  return p;
}

at::Tensor preprocess_image(const uint8_t* rgb, int64_t height, int64_t width,
                            const ImagePreprocess& p) {
  if (height <= 0 || width <= 0) throw Error("Cannot preprocess an empty image.");
  at::Tensor x = at::from_blob(const_cast<uint8_t*>(rgb), {height, width, 3}, at::kByte)
                     .permute({2, 0, 1})
                     .to(at::kDouble);  // [3, h, w]
  if (p.shortest_edge > 0 && std::min(height, width) != p.shortest_edge) {
    const double scale = double(p.shortest_edge) / double(std::min(height, width));
    const int64_t h = std::max<int64_t>(1, std::llround(height * scale));
    const int64_t w = std::max<int64_t>(1, std::llround(width * scale));
    x = at::upsample_bilinear2d(x.unsqueeze(0), {h, w}, false).squeeze(0).clamp(0, 255);
  }
  if (p.crop_height > 0 && p.crop_width > 0) {
    const int64_t top = std::max<int64_t>(0, (x.size(1) - p.crop_height) / 2);
    const int64_t left = std::max<int64_t>(0, (x.size(2) - p.crop_width) / 2);
    x = x.slice(1, top, top + p.crop_height).slice(2, left, left + p.crop_width);
  }
  // As HF's processors: rescale in double, normalise in float.
  at::Tensor v = (x * p.rescale).to(at::kFloat);
  at::Tensor mean = at::tensor(std::vector<float>(p.mean.begin(), p.mean.end())).view({3, 1, 1});
  at::Tensor sd = at::tensor(std::vector<float>(p.std.begin(), p.std.end())).view({3, 1, 1});
  return ((v - mean) / sd).contiguous();
}

ModelConfig clip_tower_config(int64_t d_model, int64_t n_layers, int64_t n_heads, int64_t d_mlp,
                              int64_t positions, double eps, Activation act) {
  ModelConfig v;
  v.architecture = "CLIPVisionModel";
  v.family = "clip";
  v.d_model = d_model;
  v.n_layers = n_layers;
  v.n_heads = v.n_kv_heads = n_heads;
  v.d_head = n_heads > 0 ? d_model / n_heads : 0;
  v.d_mlp = d_mlp;
  v.d_vocab = 0;
  v.n_ctx = positions;
  v.norm = NormKind::LayerNorm;
  v.norm_eps = eps;
  v.act = act;
  v.positional = Positional::Learned;
  v.attn_qkv_bias = v.attn_out_bias = v.mlp_bias = true;
  v.causal = false;
  v.embed_norm = true;
  return v;
}

VisionEncoder::VisionEncoder(VisionConfig cfg, std::unique_ptr<Model> tower, at::Tensor patch_w,
                             at::Tensor class_embed, at::Tensor proj1_w, at::Tensor proj1_b,
                             at::Tensor proj2_w, at::Tensor proj2_b, ImagePreprocess preprocess)
    : cfg_(cfg),
      tower_(std::move(tower)),
      patch_w_(std::move(patch_w)),
      class_embed_(std::move(class_embed)),
      proj1_w_(std::move(proj1_w)),
      proj1_b_(std::move(proj1_b)),
      proj2_w_(std::move(proj2_w)),
      proj2_b_(std::move(proj2_b)),
      preprocess_(preprocess) {}

at::Tensor VisionEncoder::features(const at::Tensor& pixel_values, const HookSet* hooks) const {
  const int64_t S = cfg_.image_size, P = cfg_.patch_size;
  if (pixel_values.dim() != 4 || pixel_values.size(1) != cfg_.channels ||
      pixel_values.size(2) != S || pixel_values.size(3) != S)
    throw Error("Pixel values must be [batch, " + std::to_string(cfg_.channels) + ", " +
                std::to_string(S) + ", " + std::to_string(S) + "] for this vision tower.");
  const Model& t = *tower_;
  const int64_t B = pixel_values.size(0), D = t.config().d_model, L = t.config().n_layers;
  at::Tensor x = pixel_values.to(t.device()).to(t.dtype());
  at::Tensor patches = at::conv2d(x, patch_w_, {}, {P, P}).flatten(2).transpose(1, 2);  // [B, N, D]
  at::Tensor cls = class_embed_.view({1, 1, D}).expand({B, 1, D});
  at::Tensor embeds = at::cat({cls, patches}, 1);  // [B, 1 + N, D]

  // HF hidden_states[i]: i = 0 after the embedding norm, i > 0 the output of layer i - 1.
  const int64_t idx = cfg_.feature_layer < 0 ? L + 1 + cfg_.feature_layer : cfg_.feature_layer;
  if (idx < 0 || idx > L)
    throw Error("vision_feature_layer " + std::to_string(cfg_.feature_layer) +
                " is outside the vision tower's " + std::to_string(L) + " layers.");
  HookSet run_hooks = hooks != nullptr ? *hooks : HookSet();
  at::Tensor selected;  // [B, 1 + N, D]
  const auto& points = t.hook_points();
  run_hooks.add(idx == 0 ? points.name(HookKind::ResidPre, 0)
                         : points.name(HookKind::ResidPost, static_cast<int>(idx - 1)),
                [&selected](HookCall& c) { selected = c.value; });
  if (t.run_embeds(embeds, {}, &run_hooks).stopped) return {};
  at::Tensor feats = cfg_.keep_class_token ? selected : selected.slice(1, 1);
  const at::Tensor hidden =
      activate(cfg_.projector_act, mechscope::linear(feats, proj1_w_, proj1_b_));
  at::Tensor image_features =
      mechscope::linear(hidden, proj2_w_, proj2_b_);  // [B, tokens_per_image, d_text]
  if (hooks != nullptr &&
      call_hooks(*hooks, "hook_image_features", -1, HookKind::ImageFeatures, image_features))
    return {};
  return image_features;
}

void VisionEncoder::to(const at::TensorOptions& options) {
  tower_->to(options.device(), c10::typeMetaToScalarType(options.dtype()));
  for (at::Tensor* t : {&patch_w_, &class_embed_, &proj1_w_, &proj1_b_, &proj2_w_, &proj2_b_})
    if (t->defined()) *t = t->to(options);
}

std::vector<std::pair<std::string, at::Tensor*>> VisionEncoder::named_tensors() {
  std::vector<std::pair<std::string, at::Tensor*>> out;
  for (auto& [name, t] : tower_->weights().named_tensors()) out.emplace_back("vision." + name, t);
  const std::pair<const char*, at::Tensor*> own[] = {
      {"vision.patch", &patch_w_},   {"vision.class", &class_embed_}, {"projector.w1", &proj1_w_},
      {"projector.b1", &proj1_b_}, {"projector.w2", &proj2_w_},     {"projector.b2", &proj2_b_}};
  for (const auto& [name, t] : own)
    if (t->defined()) out.emplace_back(name, t);
  return out;
}

std::vector<std::string> VisionEncoder::hook_names() const {
  std::vector<std::string> names = tower_->hook_names();
  names.push_back("hook_image_features");
  return names;
}

}  // namespace mechscope
