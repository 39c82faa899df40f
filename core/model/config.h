#pragma once
/// The one configuration of the generic hooked transformer. Every checkpoint family is a set of
/// differences in these fields (TransformerLens's approach); field names follow TransformerLens.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mechscope {

enum class NormKind { LayerNorm, RMSNorm };
enum class Activation { Gelu, GeluTanh, Relu, Silu, QuickGelu };
enum class Positional { Learned, Rotary };
/// Which keys a layer attends to (TransformerLens `attn_types`): all earlier ones, or only those
/// inside the sliding window.
enum class AttnType { Global, Local };

/// RoPE frequency scaling as in HF `rope_scaling` ("linear" and "llama3").
struct RopeScaling {
  std::string type = "none";  // none | linear | llama3
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position = 8192;
};

struct ModelConfig {
  std::string architecture;  // the HF `architectures` string, e.g. "LlamaForCausalLM"
  std::string family;        // short family name, e.g. "llama"
  int64_t d_model = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;  // == n_heads without grouped-query attention
  int64_t d_head = 0;
  int64_t d_mlp = 0;
  int64_t d_vocab = 0;
  int64_t n_ctx = 0;

  NormKind norm = NormKind::LayerNorm;
  double norm_eps = 1e-5;
  Activation act = Activation::GeluTanh;
  bool gated_mlp = false;  // SwiGLU-style: act(x W_gate) * (x W_in)
  Positional positional = Positional::Learned;
  int64_t rotary_dim = 0;  // leading dims of each head that are rotated (partial rotary)
  double rotary_base = 10000.0;
  RopeScaling rope_scaling;
  bool parallel_attn_mlp = false;  // resid_post = resid_pre + attn(ln1 x) + mlp(ln2 x)
  bool attn_qkv_bias = false;
  bool attn_out_bias = false;
  bool mlp_bias = false;
  bool unembed_bias = false;
  bool tied_embeddings = false;
  // Local (sliding-window) layers mask keys this many or more positions before the query.
  std::optional<int64_t> sliding_window;
  // Per layer (TransformerLens `attn_types`); empty: every layer is local when sliding_window is
  // set (Mistral), global otherwise. Gemma 2/3 alternate local and global layers.
  std::vector<AttnType> attn_types;
  // The RoPE base of local layers, which then rotate without rope_scaling (Gemma 3: 10k local,
  // 1M scaled global); unset: every layer uses rotary_base and rope_scaling.
  std::optional<double> rotary_base_local;
  // Attention scores are divided by this; unset: √d_head (Gemma 2/3: √query_pre_attn_scalar).
  std::optional<double> attn_scale;
  double attn_scores_soft_cap = 0;    // > 0: scores = cap·tanh(scores / cap), before the mask
  double output_logits_soft_cap = 0;  // > 0: logits = cap·tanh(logits / cap)
  // Token embeddings are multiplied by this (Gemma: √d_model, rounded to the model's dtype as HF
  // does); the embedding matrix itself (and a tied unembedding) stays unscaled.
  double embed_scale = 1.0;
  // Gemma 2/3 "sandwich" norms: RMSNorms ln1_post and ln2_post on the attention and MLP outputs
  // before they are added to the residual stream (hook_attn_out / hook_mlp_out see the result).
  bool use_normalization_before_and_after = false;
  // Gemma 3: an RMSNorm over d_head on every query and key head (attn.q_norm, attn.k_norm),
  // after hook_q / hook_k and before the rotation.
  bool use_qk_norm = false;
  bool causal = true;       // false for encoders (a vision tower attends everywhere)
  bool embed_norm = false;  // a LayerNorm on the embeddings before block 0 (CLIP's pre_layrnorm)

  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;

  int64_t n_groups() const { return n_heads / n_kv_heads; }
  /// Whether `layer` attends only inside the sliding window.
  bool is_local(int64_t layer) const {
    return sliding_window && (attn_types.empty() || attn_types[layer] == AttnType::Local);
  }
  /// Whether any layer does (the forward pass then builds the windowed mask).
  bool has_local_layers() const;
  /// An encoder (d_vocab == 0) reads embeddings and returns its residual stream: it has no token
  /// embedding, final norm or unembedding.
  bool is_encoder() const { return d_vocab == 0; }

  /// Checks consistency; throws mechscope::Error naming `source` (the config file).
  void validate(const std::string& source) const;
  nlohmann::json to_json() const;
};

/// A Llama-layout configuration (RMSNorm, gated SiLU MLP, rotary over whole heads), as llama2.c
/// checkpoints and mechscope's own trained models use.
ModelConfig llama_layout_config(int64_t d_model, int64_t n_layers, int64_t n_heads,
                                int64_t n_kv_heads, int64_t d_mlp, int64_t d_vocab, int64_t n_ctx,
                                double norm_eps, double rope_theta, bool tied_embeddings);

const char* to_string(NormKind k);
const char* to_string(Activation a);
const char* to_string(Positional p);
const char* to_string(AttnType t);
/// Maps an HF activation name (gelu_new, gelu, silu, relu, gelu_pytorch_tanh, …).
Activation activation_from_hf(const std::string& name, const std::string& source);

}  // namespace mechscope
