#include "core/model/config.h"

#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace mechscope {

const char* to_string(NormKind k) { return k == NormKind::LayerNorm ? "LayerNorm" : "RMSNorm"; }

const char* to_string(Activation a) {
  switch (a) {
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_tanh";
    case Activation::Relu: return "relu";
    case Activation::Silu: return "silu";
    case Activation::QuickGelu: return "quick_gelu";
  }
  return "?";
}

const char* to_string(Positional p) { return p == Positional::Learned ? "learned" : "rotary"; }

const char* to_string(AttnType t) { return t == AttnType::Global ? "global" : "local"; }

bool ModelConfig::has_local_layers() const {
  for (int64_t l = 0; l < n_layers; ++l)
    if (is_local(l)) return true;
  return false;
}

ModelConfig llama_layout_config(int64_t d_model, int64_t n_layers, int64_t n_heads,
                                int64_t n_kv_heads, int64_t d_mlp, int64_t d_vocab, int64_t n_ctx,
                                double norm_eps, double rope_theta, bool tied_embeddings) {
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.family = "llama";
  c.d_model = d_model;
  c.n_layers = n_layers;
  c.n_heads = n_heads;
  c.n_kv_heads = n_kv_heads;
  c.d_head = n_heads > 0 ? d_model / n_heads : 0;
  c.d_mlp = d_mlp;
  c.d_vocab = d_vocab;
  c.n_ctx = n_ctx;
  c.norm = NormKind::RMSNorm;
  c.norm_eps = norm_eps;
  c.act = Activation::Silu;
  c.gated_mlp = true;
  c.positional = Positional::Rotary;
  c.rotary_dim = c.d_head;
  c.rotary_base = rope_theta;
  c.tied_embeddings = tied_embeddings;
  return c;
}

Activation activation_from_hf(const std::string& name, const std::string& source) {
  if (name == "gelu" || name == "gelu_python") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast" ||
      name == "gelu_tanh")
    return Activation::GeluTanh;
  if (name == "relu") return Activation::Relu;
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "quick_gelu") return Activation::QuickGelu;
  throw Error("Unsupported activation '" + name + "' in " + source +
              " (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu).");
}

void ModelConfig::validate(const std::string& source) const {
  auto fail = [&](const std::string& what) {
    throw Error("Inconsistent model configuration in " + source + ": " + what + ".");
  };
  auto positive = [&](int64_t v, const char* name) {
    if (v <= 0) fail(std::string(name) + " must be positive, got " + std::to_string(v));
  };
  positive(d_model, "d_model");
  positive(n_layers, "n_layers");
  positive(n_heads, "n_heads");
  positive(n_kv_heads, "n_kv_heads");
  positive(d_head, "d_head");
  positive(d_mlp, "d_mlp");
  if (d_vocab < 0) fail("d_vocab must not be negative");
  positive(n_ctx, "n_ctx");
  const int64_t kAbsurd = int64_t(1) << 24;
  if (d_model > kAbsurd || d_mlp > kAbsurd || d_vocab > (int64_t(1) << 26) || n_layers > 4096 ||
      n_heads > 4096 || n_ctx > (int64_t(1) << 30))
    fail("a dimension is absurdly large");
  if (n_heads % n_kv_heads != 0)
    fail("n_heads (" + std::to_string(n_heads) + ") is not a multiple of n_kv_heads (" +
         std::to_string(n_kv_heads) + ")");
  if (positional == Positional::Rotary) {
    if (rotary_dim <= 0 || rotary_dim > d_head || rotary_dim % 2 != 0)
      fail("rotary_dim " + std::to_string(rotary_dim) + " must be even and in (0, d_head=" +
           std::to_string(d_head) + "]");
    if (rotary_base <= 0) fail("rope_theta must be positive");
  }
  if (norm_eps <= 0) fail("the norm epsilon must be positive");
  if (sliding_window && *sliding_window <= 0) fail("sliding_window must be positive");
  if (!attn_types.empty() && int64_t(attn_types.size()) != n_layers)
    fail("there are " + std::to_string(attn_types.size()) + " attention types for " +
         std::to_string(n_layers) + " layers");
  for (AttnType t : attn_types)
    if (t == AttnType::Local && !sliding_window)
      fail("a local attention layer needs a sliding_window");
  if (rotary_base_local && *rotary_base_local <= 0) fail("the local RoPE base must be positive");
  if (attn_scale && !(*attn_scale > 0)) fail("attn_scale must be positive");
  if (attn_scores_soft_cap < 0 || output_logits_soft_cap < 0)
    fail("soft caps must be positive (or 0 for none)");
  if (!(embed_scale > 0)) fail("embed_scale must be positive");
  if ((use_normalization_before_and_after || use_qk_norm) && norm != NormKind::RMSNorm)
    fail("post-attention/MLP norms and q/k norms are supported as RMSNorm only");
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {
      {"architecture", architecture},
      {"family", family},
      {"d_model", d_model},
      {"n_layers", n_layers},
      {"n_heads", n_heads},
      {"n_kv_heads", n_kv_heads},
      {"d_head", d_head},
      {"d_mlp", d_mlp},
      {"d_vocab", d_vocab},
      {"n_ctx", n_ctx},
      {"normalization_type", to_string(norm)},
      {"eps", norm_eps},
      {"act_fn", to_string(act)},
      {"gated_mlp", gated_mlp},
      {"positional_embedding_type", to_string(positional)},
      {"parallel_attn_mlp", parallel_attn_mlp},
      {"attn_qkv_bias", attn_qkv_bias},
      {"attn_out_bias", attn_out_bias},
      {"mlp_bias", mlp_bias},
      {"tied_embeddings", tied_embeddings},
  };
  if (!causal) j["causal"] = false;
  if (embed_norm) j["embed_norm"] = true;
  if (positional == Positional::Rotary) {
    j["rotary_dim"] = rotary_dim;
    j["rotary_base"] = rotary_base;
    if (rope_scaling.type != "none")
      j["rope_scaling"] = {{"type", rope_scaling.type}, {"factor", rope_scaling.factor}};
  }
  if (sliding_window) j["sliding_window"] = *sliding_window;
  if (!attn_types.empty()) {
    nlohmann::json types = nlohmann::json::array();
    for (AttnType t : attn_types) types.push_back(to_string(t));
    j["attn_types"] = types;
  }
  if (rotary_base_local) j["rotary_base_local"] = *rotary_base_local;
  if (attn_scale) j["attn_scale"] = *attn_scale;
  if (attn_scores_soft_cap > 0) j["attn_scores_soft_cap"] = attn_scores_soft_cap;
  if (output_logits_soft_cap > 0) j["output_logits_soft_cap"] = output_logits_soft_cap;
  if (embed_scale != 1.0) j["embed_scale"] = embed_scale;
  if (use_normalization_before_and_after) j["use_normalization_before_and_after"] = true;
  if (use_qk_norm) j["use_qk_norm"] = true;
  if (bos_token_id) j["bos_token_id"] = *bos_token_id;
  if (eos_token_id) j["eos_token_id"] = *eos_token_id;
  return j;
}

}  // namespace mechscope
