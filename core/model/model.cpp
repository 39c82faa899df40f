#include "core/model/model.h"

#include <ATen/ATen.h>

#include "core/model/vision.h"
#include "core/util/error.h"
#include "core/util/memory.h"

namespace mechscope {

Model::Model(ModelConfig cfg, Weights weights, std::shared_ptr<const Tokenizer> tokenizer,
             ModelSource source, const std::string& hook_prefix)
    : cfg_(std::move(cfg)),
      weights_(std::move(weights)),
      tokenizer_(std::move(tokenizer)),
      source_(std::move(source)),
      points_(cfg_, hook_prefix) {}

void Model::to(at::Device device, at::ScalarType dtype) {
  weights_.to(at::TensorOptions().device(device).dtype(dtype));
  if (vision_) vision_->to(at::TensorOptions().device(device).dtype(dtype));
}

int64_t Model::parameter_count() const {
  int64_t n = weights_.parameter_count();
  if (vision_)
    for (auto& [name, t] : vision_->named_tensors()) n += t->numel();
  return n;
}

std::vector<std::string> Model::hook_names() const {
  std::vector<std::string> names = vision_ ? vision_->hook_names() : std::vector<std::string>();
  names.insert(names.end(), points_.ordered().begin(), points_.ordered().end());
  return names;
}

void Model::set_vision(std::shared_ptr<VisionEncoder> vision, int64_t image_token_id) {
  vision_ = std::move(vision);
  image_token_id_ = image_token_id;
}

ForwardOutput Model::run_multimodal(const at::Tensor& tokens, const at::Tensor& pixel_values,
                                    const at::Tensor& attention_mask, const HookSet* hooks,
                                    KVCache* cache) const {
  if (!vision_) throw Error("This model has no vision tower; it cannot read images.");
  if (tokens.dim() != 2 || pixel_values.dim() != 4 || pixel_values.size(0) != tokens.size(0))
    throw Error("Give one image per prompt: tokens [batch, pos] and pixel values [batch, 3, S, S].");
  const int64_t n = vision_->tokens_per_image();
  at::Tensor is_image = tokens.to(at::kCPU) == *image_token_id_;  // [batch, pos]
  for (int64_t b = 0; b < tokens.size(0); ++b) {
    const int64_t found = is_image[b].sum().item<int64_t>();
    if (found != n)
      throw Error("Prompt " + std::to_string(b) + " has " + std::to_string(found) +
                  " image tokens but the image gives " + std::to_string(n) +
                  " features (expand the image token first).");
  }
  at::Tensor features = vision_->features(pixel_values, hooks);  // [batch, n, d_model]
  if (!features.defined()) return ForwardOutput{{}, {}, true};
  at::Tensor ids = tokens.to(at::kLong).to(device());
  at::Tensor embeds = embed_tokens(ids);
  // The image tokens' embeddings are replaced by the features, in order (HF masked_scatter).
  at::Tensor mask = is_image.to(device()).unsqueeze(-1).expand_as(embeds);
  embeds = embeds.masked_scatter(mask, features.to(embeds.scalar_type()));
  return run_embeds(embeds, attention_mask, hooks, cache);
}

std::vector<int64_t> Model::expand_image_tokens(const std::vector<int64_t>& ids) const {
  if (!vision_) return ids;
  std::vector<int64_t> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    out.push_back(ids[i]);
    const bool already = i + 1 < ids.size() && ids[i + 1] == *image_token_id_;
    const bool expanded_before = i > 0 && ids[i - 1] == *image_token_id_;
    if (ids[i] == *image_token_id_ && !already && !expanded_before)
      out.insert(out.end(), vision_->tokens_per_image() - 1, *image_token_id_);
  }
  return out;
}

std::vector<PositionKind> Model::position_kinds(const std::vector<int64_t>& ids) const {
  std::vector<PositionKind> kinds;
  for (size_t i = 0; i < ids.size(); ++i)
    kinds.push_back(i + 1 == ids.size()                          ? PositionKind::Last
                    : image_token_id_ && ids[i] == *image_token_id_ ? PositionKind::Image
                                                                    : PositionKind::Text);
  return kinds;
}

int64_t Model::hook_width(HookKind kind, int64_t positions) const {
  const ModelConfig& c = cfg_;
  switch (kind) {
    case HookKind::Ln1Scale:
    case HookKind::Ln2Scale:
    case HookKind::Ln1PostScale:
    case HookKind::Ln2PostScale:
    case HookKind::LnFinalScale: return 1;
    case HookKind::QNormScale: return c.n_heads;
    case HookKind::KNormScale: return c.n_kv_heads;
    case HookKind::Q:
    case HookKind::QNormNormalized:
    case HookKind::RotQ:
    case HookKind::Z: return c.n_heads * c.d_head;
    case HookKind::K:
    case HookKind::V:
    case HookKind::KNormNormalized:
    case HookKind::RotK: return c.n_kv_heads * c.d_head;
    case HookKind::AttnScores:
    case HookKind::Pattern: return c.n_heads * positions;
    case HookKind::Result: return c.n_heads * c.d_model;
    case HookKind::MlpPre:
    case HookKind::MlpPreLinear:
    case HookKind::MlpPost: return c.d_mlp;
    default: return c.d_model;
  }
}

ActivationCache Model::run_with_cache(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                      const NameFilter& keep, at::Tensor* logits,
                                      const at::Tensor& pixel_values) const {
  ActivationCache cache;
  HookSet hooks;
  NameFilter filter = keep ? keep : [](const std::string&) { return true; };
  // Refuse a cache that cannot fit before running: every kept point is held to the end.
  const int64_t B = tokens.size(0), T = tokens.dim() > 1 ? tokens.size(1) : 0;
  uint64_t floats = uint64_t(B * T) * uint64_t(cfg_.d_vocab);  // the logits
  int64_t kept = 0;
  for (int i = 0; i < points_.table_size(); ++i) {
    if (points_.name(i).empty() || !filter(points_.name(i))) continue;
    ++kept;
    floats += uint64_t(B * T) * uint64_t(hook_width(HookPoints::locate(i).first, T));
  }
  check_fits_in_memory(floats * uint64_t(at::elementSize(dtype())),
                       "Caching " + std::to_string(kept) + " activations of " + std::to_string(B) +
                           " × " + std::to_string(T) + " tokens");
  hooks.add(filter, [&cache](HookCall& call) { cache[call.name] = call.value; });
  ForwardOutput out = pixel_values.defined()
                          ? run_multimodal(tokens, pixel_values, attention_mask, &hooks)
                          : run(tokens, attention_mask, &hooks);
  if (logits != nullptr) *logits = out.logits;
  return cache;
}

std::pair<at::Tensor, at::Tensor> Model::tokenize(const std::vector<std::string>& prompts) const {
  if (tokenizer_ == nullptr)
    throw Error("This model has no tokenizer; give one with --tokenizer or pass token ids.");
  std::vector<std::vector<int64_t>> ids;
  int64_t longest = 0;
  for (const auto& p : prompts) {
    ids.push_back(tokenizer_->encode(p, true).ids);
    if (ids.back().empty()) throw Error("The prompt '" + p + "' encodes to no tokens.");
    longest = std::max<int64_t>(longest, ids.back().size());
  }
  at::Tensor tokens = at::zeros({int64_t(prompts.size()), longest}, at::kLong);
  at::Tensor mask = at::zeros({int64_t(prompts.size()), longest}, at::kLong);
  for (size_t b = 0; b < ids.size(); ++b)
    for (size_t i = 0; i < ids[b].size(); ++i) {
      tokens[b][i] = ids[b][i];
      mask[b][i] = 1;
    }
  return {tokens, mask};
}

}  // namespace mechscope
