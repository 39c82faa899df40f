// GPTNeoXForCausalLM (Pythia): partial rotary, parallel residual, QKV fused per head.
#include "core/adapters/families.h"
#include "core/util/error.h"

namespace mechscope {

Adapter gpt_neox_adapter() {
  Adapter a;
  a.architectures = {"GPTNeoXForCausalLM"};
  a.family = "gpt_neox";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    ConfigFields f(j, source);
    ModelConfig c;
    c.d_model = f.integer("hidden_size");
    c.n_layers = f.integer("num_hidden_layers");
    c.n_heads = f.integer("num_attention_heads");
    c.n_kv_heads = c.n_heads;
    if (c.n_heads > 0 && c.d_model % c.n_heads != 0)
      throw Error("Inconsistent model configuration in " + source + ": hidden_size (" +
                  std::to_string(c.d_model) + ") is not divisible by num_attention_heads (" +
                  std::to_string(c.n_heads) + ").");
    c.d_head = c.n_heads > 0 ? c.d_model / c.n_heads : 0;
    c.d_mlp = f.integer("intermediate_size");
    c.d_vocab = f.integer("vocab_size");
    c.n_ctx = f.integer("max_position_embeddings");
    c.norm = NormKind::LayerNorm;
    c.norm_eps = f.number("layer_norm_eps", 1e-5);
    c.act = activation_from_hf(f.string("hidden_act", "gelu"), source);
    c.positional = Positional::Rotary;
    double pct = f.number("rotary_pct", 0.25);
    if (f.has("rope_parameters") && j["rope_parameters"].is_object() &&
        j["rope_parameters"].contains("partial_rotary_factor"))
      pct = j["rope_parameters"]["partial_rotary_factor"].get<double>();
    pct = f.number("partial_rotary_factor", pct);
    c.rotary_dim = static_cast<int64_t>(c.d_head * pct);
    c.rotary_base = f.number("rotary_emb_base", 10000.0);
    read_rope(f, c);
    c.parallel_attn_mlp = f.boolean("use_parallel_residual", true);
    const bool bias = f.boolean("attention_bias", true);
    c.attn_qkv_bias = c.attn_out_bias = bias;
    c.mlp_bias = true;
    c.tied_embeddings = f.boolean("tie_word_embeddings", false);
    read_special_ids(f, c);
    return c;
  };
  a.tensors = [](const ModelConfig& c, TensorRules& r) {
    const int64_t D = c.d_model, M = c.d_mlp;
    r.add("gpt_neox.embed_in.weight", {c.d_vocab, D}, "embed.weight");
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "gpt_neox.layers." + std::to_string(l) + ".";
      const std::string b = "blocks." + std::to_string(l) + ".";
      r.add(h + "input_layernorm.weight", {D}, b + "ln1.weight");
      r.add(h + "input_layernorm.bias", {D}, b + "ln1.bias");
      r.add(h + "attention.query_key_value.weight", {3 * D, D}, b + "attn.{qkv}.weight",
            Transform::SplitQKVHeads);
      if (c.attn_qkv_bias)
        r.add(h + "attention.query_key_value.bias", {3 * D}, b + "attn.{qkv}.bias",
              Transform::SplitQKVHeads);
      r.add(h + "attention.dense.weight", {D, D}, b + "attn.o.weight");
      if (c.attn_out_bias) r.add(h + "attention.dense.bias", {D}, b + "attn.o.bias");
      r.add(h + "post_attention_layernorm.weight", {D}, b + "ln2.weight");
      r.add(h + "post_attention_layernorm.bias", {D}, b + "ln2.bias");
      r.add(h + "mlp.dense_h_to_4h.weight", {M, D}, b + "mlp.in.weight");
      r.add(h + "mlp.dense_h_to_4h.bias", {M}, b + "mlp.in.bias");
      r.add(h + "mlp.dense_4h_to_h.weight", {D, M}, b + "mlp.out.weight");
      r.add(h + "mlp.dense_4h_to_h.bias", {D}, b + "mlp.out.bias");
    }
    r.add("gpt_neox.final_layer_norm.weight", {D}, "ln_final.weight");
    r.add("gpt_neox.final_layer_norm.bias", {D}, "ln_final.bias");
    if (!c.tied_embeddings) r.add("embed_out.weight", {c.d_vocab, D}, "unembed.weight");
  };
  return a;
}

}  // namespace mechscope
