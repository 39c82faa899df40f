// GemmaForCausalLM (Gemma 1) and what every Gemma generation shares: the Llama layout with
// GeGLU, embeddings scaled by √d_model, RMSNorm gains stored as w for a scale of (1 + w), a head
// size of its own (head_dim ≠ d_model / n_heads) and, in the 2B model, multi-query attention.
#include <cmath>

#include "core/adapters/families.h"
#include "core/util/error.h"

namespace mechscope {

ModelConfig read_gemma_config(const ConfigFields& f, const char* activation_key) {
  if (f.boolean("use_bidirectional_attention", false))
    throw Error("Bidirectional Gemma attention (use_bidirectional_attention, an embedding model) "
                "in " + f.source() + " is not supported.");
  ModelConfig c = read_llama_like_config(f);
  // HF's Gemma defaults where config.json leaves a field out.
  c.d_head = f.integer("head_dim", 256);
  c.rotary_dim = c.d_head;
  c.n_ctx = f.integer("max_position_embeddings", 8192);
  c.tied_embeddings = f.boolean("tie_word_embeddings", true);
  // GeGLU: the gate of the gated MLP goes through the tanh approximation of GELU.
  c.act = activation_from_hf(f.string(activation_key, "gelu_pytorch_tanh"), f.source());
  // The token embeddings are multiplied by √d_model (the unembedding, tied or not, is not).
  c.embed_scale = std::sqrt(double(c.d_model));
  return c;
}

void gemma_tensors(const ModelConfig& c, TensorRules& r) {
  const int64_t D = c.d_model, dh = c.d_head;
  const Transform gain = Transform::PlusOne;  // every Gemma RMSNorm computes x̂ · (1 + w)
  r.add("model.embed_tokens.weight", {c.d_vocab, D}, "embed.weight");
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string h = "model.layers." + std::to_string(l) + ".";
    const std::string b = "blocks." + std::to_string(l) + ".";
    r.add(h + "input_layernorm.weight", {D}, b + "ln1.weight", gain);
    llama_like_projections(c, r, h, b);
    if (c.use_qk_norm) {
      r.add(h + "self_attn.q_norm.weight", {dh}, b + "attn.q_norm.weight", gain);
      r.add(h + "self_attn.k_norm.weight", {dh}, b + "attn.k_norm.weight", gain);
    }
    if (c.use_normalization_before_and_after) {
      // Gemma 2/3 naming differs from Llama's: post_attention_layernorm normalises the attention
      // OUTPUT (ln1_post) and pre_feedforward_layernorm is the MLP's input norm (ln2).
      r.add(h + "post_attention_layernorm.weight", {D}, b + "ln1_post.weight", gain);
      r.add(h + "pre_feedforward_layernorm.weight", {D}, b + "ln2.weight", gain);
      r.add(h + "post_feedforward_layernorm.weight", {D}, b + "ln2_post.weight", gain);
    } else {
      r.add(h + "post_attention_layernorm.weight", {D}, b + "ln2.weight", gain);
    }
  }
  r.add("model.norm.weight", {D}, "ln_final.weight", gain);
  if (!c.tied_embeddings) r.add("lm_head.weight", {c.d_vocab, D}, "unembed.weight");
}

Adapter gemma_adapter() {
  Adapter a;
  a.architectures = {"GemmaForCausalLM"};
  a.family = "gemma";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    ConfigFields f(j, source);
    ModelConfig c = read_gemma_config(f, "hidden_act");
    // The released Gemma 1 configs say hidden_act "gelu" but mean the tanh approximation; HF
    // reads it so (configuration_gemma.py).
    if (f.string("hidden_act", "") == "gelu") c.act = Activation::GeluTanh;
    return c;
  };
  a.tensors = gemma_tensors;
  return a;
}

}  // namespace mechscope
