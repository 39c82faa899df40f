// LlamaForCausalLM (Llama 2/3, SmolLM, TinyLlama): RMSNorm, SwiGLU, rotary halves, GQA.
#include "core/adapters/families.h"
#include "core/util/error.h"

namespace mechscope {

ModelConfig read_llama_like_config(const ConfigFields& f) {
  ModelConfig c;
  c.d_model = f.integer("hidden_size");
  c.n_layers = f.integer("num_hidden_layers");
  c.n_heads = f.integer("num_attention_heads");
  c.n_kv_heads = f.integer("num_key_value_heads", c.n_heads);
  if (!f.has("head_dim") && c.n_heads > 0 && c.d_model % c.n_heads != 0)
    throw Error("Inconsistent model configuration in " + f.source() + ": hidden_size (" +
                std::to_string(c.d_model) + ") is not divisible by num_attention_heads (" +
                std::to_string(c.n_heads) + ") and no head_dim is given.");
  c.d_head = f.integer("head_dim", c.n_heads > 0 ? c.d_model / c.n_heads : 0);
  c.d_mlp = f.integer("intermediate_size");
  c.d_vocab = f.integer("vocab_size");
  c.n_ctx = f.integer("max_position_embeddings", 2048);
  c.norm = NormKind::RMSNorm;
  c.norm_eps = f.number("rms_norm_eps", 1e-6);
  c.act = activation_from_hf(f.string("hidden_act", "silu"), f.source());
  c.gated_mlp = true;
  c.positional = Positional::Rotary;
  c.rotary_dim = c.d_head;
  read_rope(f, c);
  c.tied_embeddings = f.boolean("tie_word_embeddings", false);
  const bool attention_bias = f.boolean("attention_bias", false);
  c.attn_qkv_bias = c.attn_out_bias = attention_bias;
  c.mlp_bias = f.boolean("mlp_bias", false);
  read_special_ids(f, c);
  return c;
}

void llama_like_projections(const ModelConfig& c, TensorRules& r, const std::string& h,
                            const std::string& b) {
  const int64_t D = c.d_model, M = c.d_mlp, Q = c.n_heads * c.d_head, KV = c.n_kv_heads * c.d_head;
  r.add(h + "self_attn.q_proj.weight", {Q, D}, b + "attn.q.weight");
  r.add(h + "self_attn.k_proj.weight", {KV, D}, b + "attn.k.weight");
  r.add(h + "self_attn.v_proj.weight", {KV, D}, b + "attn.v.weight");
  if (c.attn_qkv_bias) {
    r.add(h + "self_attn.q_proj.bias", {Q}, b + "attn.q.bias");
    r.add(h + "self_attn.k_proj.bias", {KV}, b + "attn.k.bias");
    r.add(h + "self_attn.v_proj.bias", {KV}, b + "attn.v.bias");
  }
  r.add(h + "self_attn.o_proj.weight", {D, Q}, b + "attn.o.weight");
  if (c.attn_out_bias) r.add(h + "self_attn.o_proj.bias", {D}, b + "attn.o.bias");
  r.add(h + "mlp.gate_proj.weight", {M, D}, b + "mlp.gate.weight");
  r.add(h + "mlp.up_proj.weight", {M, D}, b + "mlp.in.weight");
  r.add(h + "mlp.down_proj.weight", {D, M}, b + "mlp.out.weight");
  if (c.mlp_bias) {
    r.add(h + "mlp.up_proj.bias", {M}, b + "mlp.in.bias");
    r.add(h + "mlp.down_proj.bias", {D}, b + "mlp.out.bias");
  }
}

void llama_like_tensors(const ModelConfig& c, TensorRules& r) {
  const int64_t D = c.d_model;
  r.add("model.embed_tokens.weight", {c.d_vocab, D}, "embed.weight");
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string h = "model.layers." + std::to_string(l) + ".";
    const std::string b = "blocks." + std::to_string(l) + ".";
    r.add(h + "input_layernorm.weight", {D}, b + "ln1.weight");
    llama_like_projections(c, r, h, b);
    r.add(h + "post_attention_layernorm.weight", {D}, b + "ln2.weight");
  }
  r.add("model.norm.weight", {D}, "ln_final.weight");
  if (!c.tied_embeddings) r.add("lm_head.weight", {c.d_vocab, D}, "unembed.weight");
}

Adapter llama_adapter() {
  Adapter a;
  a.architectures = {"LlamaForCausalLM"};
  a.family = "llama";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    return read_llama_like_config(ConfigFields(j, source));
  };
  a.tensors = llama_like_tensors;
  return a;
}

}  // namespace mechscope
