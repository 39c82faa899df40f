#include "core/io/hf_export.h"

#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/model/vision.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

using TensorMap = std::map<std::string, at::Tensor>;

void put(TensorMap& t, const std::string& name, const at::Tensor& x) {
  if (x.defined()) t[name] = x.detach().to(at::kCPU).to(at::kFloat).contiguous();
}

nlohmann::json llama_config(const ModelConfig& c, const std::string& where) {
  if (c.norm != NormKind::RMSNorm || !c.gated_mlp || c.positional != Positional::Rotary ||
      c.rotary_dim != c.d_head || c.parallel_attn_mlp || c.attn_qkv_bias != c.attn_out_bias ||
      c.sliding_window || c.rope_scaling.type != "none" || c.act != Activation::Silu ||
      c.embed_scale != 1.0 || c.attn_scale || c.attn_scores_soft_cap > 0 ||
      c.output_logits_soft_cap > 0 || c.use_normalization_before_and_after || c.use_qk_norm)
    throw Error("Only Llama-layout models (RMSNorm, SiLU-gated MLP, full unscaled rotary, "
                "sequential blocks, no Gemma scaling, soft caps or extra norms) can be exported to " +
                where + ".");
  nlohmann::json cfg = {
      {"model_type", "llama"},
      {"hidden_size", c.d_model},
      {"num_hidden_layers", c.n_layers},
      {"num_attention_heads", c.n_heads},
      {"num_key_value_heads", c.n_kv_heads},
      {"head_dim", c.d_head},
      {"intermediate_size", c.d_mlp},
      {"vocab_size", c.d_vocab},
      {"max_position_embeddings", c.n_ctx},
      {"rms_norm_eps", c.norm_eps},
      {"hidden_act", to_string(c.act)},
      {"rope_theta", c.rotary_base},
      {"tie_word_embeddings", c.tied_embeddings},
      {"attention_bias", c.attn_qkv_bias},
      {"mlp_bias", c.mlp_bias},
      {"torch_dtype", "float32"},
  };
  if (c.bos_token_id) cfg["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_id) cfg["eos_token_id"] = *c.eos_token_id;
  return cfg;
}

/// Llama tensors, every name prefixed by `prefix` ("" or "language_model.").
void llama_tensors(const Weights& w, const std::string& prefix, TensorMap& t) {
  const ModelConfig& c = w.config();
  const int64_t q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head;
  put(t, prefix + "model.embed_tokens.weight", w.embed);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[l];
    const std::string h = prefix + "model.layers." + std::to_string(l) + ".";
    put(t, h + "input_layernorm.weight", L.ln1_w);
    put(t, h + "self_attn.q_proj.weight", L.qkv_w.slice(0, 0, q));
    put(t, h + "self_attn.k_proj.weight", L.qkv_w.slice(0, q, q + kv));
    put(t, h + "self_attn.v_proj.weight", L.qkv_w.slice(0, q + kv, q + 2 * kv));
    if (L.qkv_b.defined()) {
      put(t, h + "self_attn.q_proj.bias", L.qkv_b.slice(0, 0, q));
      put(t, h + "self_attn.k_proj.bias", L.qkv_b.slice(0, q, q + kv));
      put(t, h + "self_attn.v_proj.bias", L.qkv_b.slice(0, q + kv, q + 2 * kv));
    }
    put(t, h + "self_attn.o_proj.weight", L.o_w);
    put(t, h + "self_attn.o_proj.bias", L.o_b);
    put(t, h + "post_attention_layernorm.weight", L.ln2_w);
    put(t, h + "mlp.gate_proj.weight", L.gate_w);
    put(t, h + "mlp.up_proj.weight", L.in_w);
    put(t, h + "mlp.up_proj.bias", L.in_b);
    put(t, h + "mlp.down_proj.weight", L.out_w);
    put(t, h + "mlp.down_proj.bias", L.out_b);
  }
  put(t, prefix + "model.norm.weight", w.lnf_w);
  if (!c.tied_embeddings) put(t, prefix + "lm_head.weight", w.unembed_w);
}

void write_json(const std::filesystem::path& p, const nlohmann::json& j) {
  std::ofstream out(p);
  out << j.dump(2) << "\n";
  if (!out) throw Error("Cannot write " + p.string() + ".");
}

}  // namespace

void export_hf_llama(const Weights& w, const std::filesystem::path& dir) {
  nlohmann::json cfg = llama_config(w.config(), dir.string());
  cfg["architectures"] = {"LlamaForCausalLM"};
  std::filesystem::create_directories(dir);
  write_json(dir / "config.json", cfg);
  TensorMap t;
  llama_tensors(w, "", t);
  write_safetensors(dir / "model.safetensors", t, {{"format", "pt"}});
}

void export_hf_llava(const Model& model, const std::filesystem::path& dir) {
  const VisionEncoder* v = model.vision();
  if (v == nullptr) throw Error("Only vision-language models can be exported as LLaVA.");
  const VisionConfig& vc = v->config();
  const Weights& vw = v->tower().weights();
  const ModelConfig& tc = vw.config();
  const ImagePreprocess& pre = v->preprocess();
  nlohmann::json cfg = {
      {"architectures", {"LlavaForConditionalGeneration"}},
      {"model_type", "llava"},
      {"text_config", llama_config(model.config(), dir.string())},
      {"vision_config",
       {{"model_type", "clip_vision_model"}, {"hidden_size", tc.d_model},
        {"intermediate_size", tc.d_mlp}, {"num_hidden_layers", tc.n_layers},
        {"num_attention_heads", tc.n_heads}, {"image_size", vc.image_size},
        {"patch_size", vc.patch_size}, {"num_channels", vc.channels},
        {"hidden_act", to_string(tc.act)}, {"layer_norm_eps", tc.norm_eps}}},
      {"image_token_index", *model.image_token_id()},
      {"image_seq_length", v->tokens_per_image()},
      {"vision_feature_layer", vc.feature_layer},
      {"vision_feature_select_strategy", vc.keep_class_token ? "full" : "default"},
      {"projector_hidden_act", to_string(vc.projector_act)},
      {"multimodal_projector_bias", v->projector1_bias().defined()},
      {"tie_word_embeddings", model.config().tied_embeddings},
  };
  std::filesystem::create_directories(dir);
  write_json(dir / "config.json", cfg);
  write_json(dir / "preprocessor_config.json",
             {{"image_processor_type", "CLIPImageProcessor"},
              {"do_resize", true},
              {"size", {{"shortest_edge", pre.shortest_edge}}},
              {"do_center_crop", true},
              {"crop_size", {{"height", pre.crop_height}, {"width", pre.crop_width}}},
              {"do_rescale", true},
              {"rescale_factor", pre.rescale},
              {"do_normalize", true},
              {"image_mean", pre.mean},
              {"image_std", pre.std},
              {"do_convert_rgb", true},
              {"resample", 3}});

  TensorMap t;
  llama_tensors(model.weights(), "language_model.", t);
  const std::string p = "vision_tower.";
  put(t, p + "embeddings.patch_embedding.weight", v->patch_weight());
  put(t, p + "embeddings.class_embedding", v->class_embedding());
  put(t, p + "embeddings.position_embedding.weight", vw.pos_embed);
  put(t, p + "pre_layrnorm.weight", vw.ln_pre_w);
  put(t, p + "pre_layrnorm.bias", vw.ln_pre_b);
  // LLaVA never uses the tower's final norm, but CLIP checkpoints carry one: write the identity.
  put(t, p + "post_layernorm.weight", at::ones({tc.d_model}));
  put(t, p + "post_layernorm.bias", at::zeros({tc.d_model}));
  const int64_t D = tc.d_model;
  for (int64_t l = 0; l < tc.n_layers; ++l) {
    const LayerWeights& L = vw.layers[l];
    const std::string h = p + "encoder.layers." + std::to_string(l) + ".";
    put(t, h + "layer_norm1.weight", L.ln1_w);
    put(t, h + "layer_norm1.bias", L.ln1_b);
    put(t, h + "layer_norm2.weight", L.ln2_w);
    put(t, h + "layer_norm2.bias", L.ln2_b);
    const char* names[] = {"q_proj", "k_proj", "v_proj"};
    for (int i = 0; i < 3; ++i) {
      put(t, h + "self_attn." + names[i] + ".weight", L.qkv_w.slice(0, i * D, (i + 1) * D));
      put(t, h + "self_attn." + names[i] + ".bias", L.qkv_b.slice(0, i * D, (i + 1) * D));
    }
    put(t, h + "self_attn.out_proj.weight", L.o_w);
    put(t, h + "self_attn.out_proj.bias", L.o_b);
    put(t, h + "mlp.fc1.weight", L.in_w);
    put(t, h + "mlp.fc1.bias", L.in_b);
    put(t, h + "mlp.fc2.weight", L.out_w);
    put(t, h + "mlp.fc2.bias", L.out_b);
  }
  put(t, "multi_modal_projector.linear_1.weight", v->projector1_weight());
  put(t, "multi_modal_projector.linear_1.bias", v->projector1_bias());
  put(t, "multi_modal_projector.linear_2.weight", v->projector2_weight());
  put(t, "multi_modal_projector.linear_2.bias", v->projector2_bias());
  write_safetensors(dir / "model.safetensors", t, {{"format", "pt"}});
}

}  // namespace mechscope
