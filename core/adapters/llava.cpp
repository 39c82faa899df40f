// LlavaForConditionalGeneration: a CLIP vision tower, a two-layer projector and a Llama-family
// language model in one folder. Four tensor-name layouts exist in the wild; all are accepted.
#include <ATen/ATen.h>

#include "core/adapters/families.h"
#include "core/adapters/shards.h"
#include "core/model/loader.h"
#include "core/model/vision.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

namespace fs = std::filesystem;

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

/// Text rules are declared as for a plain causal LM ("model.layers.…", "lm_head.weight").
std::vector<std::string> text_candidates(const std::string& name) {
  if (starts_with(name, "model."))
    return {"language_model." + name, "model.language_model." + name.substr(6)};
  return {"language_model." + name, name};
}

/// Vision rules are declared as "V:" + the CLIP name inside the vision model, projector rules as
/// "P:" + the name inside the projector.
std::vector<std::string> vision_candidates(const std::string& name) {
  const std::string n = name.substr(2);
  if (starts_with(name, "P:")) return {"multi_modal_projector." + n, "model.multi_modal_projector." + n};
  return {"vision_tower.vision_model." + n, "model.vision_tower.vision_model." + n,
          "model.vision_tower." + n, "vision_tower." + n};
}

const Adapter& text_adapter(const std::string& model_type, const std::string& source) {
  static const std::map<std::string, std::string> by_type = {
      {"llama", "LlamaForCausalLM"}, {"mistral", "MistralForCausalLM"}, {"qwen2", "Qwen2ForCausalLM"}};
  auto it = by_type.find(model_type);
  if (it == by_type.end())
    throw Error("Unsupported LLaVA language model type '" + model_type + "' in " + source +
                " (supported: llama, mistral, qwen2).");
  return *find_adapter(it->second);
}

std::unique_ptr<Model> load_llava(const fs::path& dir, const nlohmann::json& j,
                                  const LoadOptions& options) {
  const std::string source = (dir / "config.json").string();
  if (!j.contains("text_config") || !j["text_config"].is_object() ||
      !j.contains("vision_config") || !j["vision_config"].is_object())
    throw Error("The LLaVA configuration " + source + " lacks text_config or vision_config.");
  ConfigFields top(j, source);
  const nlohmann::json& tj = j["text_config"];
  const Adapter& text = text_adapter(tj.value("model_type", "llama"), source);
  ModelConfig cfg = text.read_config(tj, source + " (text_config)");
  cfg.architecture = "LlavaForConditionalGeneration";
  cfg.family = "llava";
  cfg.tied_embeddings = top.boolean("tie_word_embeddings", cfg.tied_embeddings);
  cfg.validate(source);

  ConfigFields vf(j["vision_config"], source + " (vision_config)");
  if (vf.string("model_type", "clip_vision_model") != "clip_vision_model")
    throw Error("Unsupported LLaVA vision tower '" + vf.string("model_type", "") + "' in " +
                source + " (supported: clip_vision_model).");
  VisionConfig vc;
  vc.image_size = vf.integer("image_size");
  vc.patch_size = vf.integer("patch_size");
  vc.channels = vf.integer("num_channels", 3);
  if (vc.patch_size <= 0 || vc.image_size % vc.patch_size != 0)
    throw Error("Inconsistent vision configuration in " + source +
                ": image_size is not a multiple of patch_size.");
  if (top.has("vision_feature_layer") && !j["vision_feature_layer"].is_number_integer())
    throw Error("Several vision_feature_layer values in " + source + " are not supported.");
  vc.feature_layer = top.integer("vision_feature_layer", -2);
  const std::string strategy = top.string("vision_feature_select_strategy", "default");
  if (strategy != "default" && strategy != "full")
    throw Error("Unknown vision_feature_select_strategy '" + strategy + "' in " + source + ".");
  vc.keep_class_token = strategy == "full";
  vc.projector_act = activation_from_hf(top.string("projector_hidden_act", "gelu"), source);
  const bool projector_bias = top.boolean("multimodal_projector_bias", true);
  const int64_t image_token =
      top.has("image_token_index") ? top.integer("image_token_index") : top.integer("image_token_id");
  if (image_token < 0 || image_token >= cfg.d_vocab)
    throw Error("The image token id " + std::to_string(image_token) + " in " + source +
                " is outside the vocabulary.");

  const int64_t vd = vf.integer("hidden_size"), vh = vf.integer("num_attention_heads");
  if (vh <= 0 || vd % vh != 0)
    throw Error("Inconsistent vision configuration in " + source +
                ": hidden_size is not divisible by num_attention_heads.");
  ModelConfig v = clip_tower_config(vd, vf.integer("num_hidden_layers"), vh,
                                    vf.integer("intermediate_size"), vc.patches() + 1,
                                    vf.number("layer_norm_eps", 1e-5),
                                    activation_from_hf(vf.string("hidden_act", "quick_gelu"), source));
  v.validate(source + " (vision_config)");

  const int64_t D = v.d_model, M = v.d_mlp, T = cfg.d_model;
  TensorRules vr;
  vr.add("V:embeddings.patch_embedding.weight", {D, vc.channels, vc.patch_size, vc.patch_size},
         "patch_embed");
  vr.add("V:embeddings.class_embedding", {D}, "class_embed");
  vr.add("V:embeddings.position_embedding.weight", {v.n_ctx, D}, "pos_embed.weight");
  vr.add("V:pre_layrnorm.weight", {D}, "ln_pre.weight");
  vr.add("V:pre_layrnorm.bias", {D}, "ln_pre.bias");
  for (int64_t l = 0; l < v.n_layers; ++l) {
    const std::string h = "V:encoder.layers." + std::to_string(l) + ".";
    const std::string b = "blocks." + std::to_string(l) + ".";
    for (const auto& [norm, slot] : {std::pair{"layer_norm1", "ln1"}, {"layer_norm2", "ln2"}}) {
      vr.add(h + norm + ".weight", {D}, b + slot + ".weight");
      vr.add(h + norm + ".bias", {D}, b + slot + ".bias");
    }
    for (const auto& [proj, slot] : {std::pair{"q_proj", "attn.q"}, {"k_proj", "attn.k"},
                                     {"v_proj", "attn.v"}, {"out_proj", "attn.o"}}) {
      vr.add(h + "self_attn." + proj + ".weight", {D, D}, b + slot + ".weight");
      vr.add(h + "self_attn." + proj + ".bias", {D}, b + slot + ".bias");
    }
    vr.add(h + "mlp.fc1.weight", {M, D}, b + "mlp.in.weight");
    vr.add(h + "mlp.fc1.bias", {M}, b + "mlp.in.bias");
    vr.add(h + "mlp.fc2.weight", {D, M}, b + "mlp.out.weight");
    vr.add(h + "mlp.fc2.bias", {D}, b + "mlp.out.bias");
  }
  vr.add("P:linear_1.weight", {T, D}, "proj1.weight");
  vr.add("P:linear_2.weight", {T, T}, "proj2.weight");
  if (projector_bias) {
    vr.add("P:linear_1.bias", {T}, "proj1.bias");
    vr.add("P:linear_2.bias", {T}, "proj2.bias");
  }

  TensorRules tr;
  text.tensors(cfg, tr);
  Shards shards(dir);
  CanonicalTensors vt = read_rules(vr, shards, v, source, vision_candidates);
  CanonicalTensors tt = read_rules(tr, shards, cfg, source, text_candidates);
  auto take = [&vt](const char* slot) {
    auto it = vt.find(slot);
    at::Tensor t = it == vt.end() ? at::Tensor() : it->second.contiguous();
    if (it != vt.end()) vt.erase(it);
    return t;
  };
  at::Tensor patch = take("patch_embed"), cls = take("class_embed");
  at::Tensor p1w = take("proj1.weight"), p1b = take("proj1.bias");
  at::Tensor p2w = take("proj2.weight"), p2b = take("proj2.bias");
  auto tower = std::make_unique<Model>(v, Weights::assemble(v, std::move(vt), shards.describe()),
                                       nullptr, ModelSource{dir.string(), "huggingface"}, "vision.");
  ImagePreprocess pre;
  pre.shortest_edge = pre.crop_height = pre.crop_width = vc.image_size;
  if (fs::exists(dir / "preprocessor_config.json"))
    pre = read_preprocessor_config(dir / "preprocessor_config.json");
  auto vision = std::make_shared<VisionEncoder>(vc, std::move(tower), patch, cls, p1w, p1b, p2w,
                                                p2b, pre);

  Weights weights = Weights::assemble(cfg, std::move(tt), shards.describe());
  auto tokenizer = load_folder_tokenizer(dir, options, cfg.d_vocab);
  auto model = std::make_unique<Model>(std::move(cfg), std::move(weights), std::move(tokenizer),
                                       ModelSource{dir.string(), "huggingface"});
  model->set_vision(std::move(vision), image_token);
  return model;
}

}  // namespace

Adapter llava_adapter() {
  Adapter a;
  a.architectures = {"LlavaForConditionalGeneration"};
  a.family = "llava";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    return text_adapter(j.value("text_config", nlohmann::json::object()).value("model_type", "llama"),
                        source)
        .read_config(j.at("text_config"), source);
  };
  a.load = load_llava;
  return a;
}

}  // namespace mechscope
