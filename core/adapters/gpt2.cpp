// GPT2LMHeadModel: learned positions, LayerNorm, Conv1D weights stored [in, out], fused c_attn.
#include "core/adapters/families.h"
#include "core/util/error.h"

namespace mechscope {

Adapter gpt2_adapter() {
  Adapter a;
  a.architectures = {"GPT2LMHeadModel"};
  a.family = "gpt2";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    ConfigFields f(j, source);
    ModelConfig c;
    c.d_model = f.integer("n_embd");
    c.n_layers = f.integer("n_layer");
    c.n_heads = f.integer("n_head");
    c.n_kv_heads = c.n_heads;
    if (c.n_heads > 0 && c.d_model % c.n_heads != 0)
      throw Error("Inconsistent model configuration in " + source + ": n_embd (" +
                  std::to_string(c.d_model) + ") is not divisible by n_head (" +
                  std::to_string(c.n_heads) + ").");
    c.d_head = c.n_heads > 0 ? c.d_model / c.n_heads : 0;
    c.d_mlp = f.integer("n_inner", 4 * c.d_model);
    c.d_vocab = f.integer("vocab_size");
    c.n_ctx = f.integer("n_positions", f.integer("n_ctx", 1024));
    c.norm = NormKind::LayerNorm;
    c.norm_eps = f.number("layer_norm_epsilon", 1e-5);
    c.act = activation_from_hf(f.string("activation_function", "gelu_new"), source);
    c.positional = Positional::Learned;
    c.attn_qkv_bias = c.attn_out_bias = c.mlp_bias = true;
    c.tied_embeddings = f.boolean("tie_word_embeddings", true);
    if (f.boolean("scale_attn_by_inverse_layer_idx", false) ||
        f.boolean("reorder_and_upcast_attn", false) || !f.boolean("scale_attn_weights", true))
      throw Error("Unsupported GPT-2 attention option in " + source +
                  " (scale_attn_by_inverse_layer_idx, reorder_and_upcast_attn or "
                  "scale_attn_weights=false).");
    read_special_ids(f, c);
    return c;
  };
  a.tensors = [](const ModelConfig& c, TensorRules& r) {
    const int64_t D = c.d_model, M = c.d_mlp;
    r.add("transformer.wte.weight", {c.d_vocab, D}, "embed.weight");
    r.add("transformer.wpe.weight", {c.n_ctx, D}, "pos_embed.weight");
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "transformer.h." + std::to_string(l) + ".";
      const std::string b = "blocks." + std::to_string(l) + ".";
      r.add(h + "ln_1.weight", {D}, b + "ln1.weight");
      r.add(h + "ln_1.bias", {D}, b + "ln1.bias");
      r.add(h + "attn.c_attn.weight", {D, 3 * D}, b + "attn.{qkv}.weight", Transform::SplitQKV);
      r.add(h + "attn.c_attn.bias", {3 * D}, b + "attn.{qkv}.bias", Transform::SplitQKV);
      r.add(h + "attn.c_proj.weight", {D, D}, b + "attn.o.weight", Transform::Transpose);
      r.add(h + "attn.c_proj.bias", {D}, b + "attn.o.bias");
      r.add(h + "ln_2.weight", {D}, b + "ln2.weight");
      r.add(h + "ln_2.bias", {D}, b + "ln2.bias");
      r.add(h + "mlp.c_fc.weight", {D, M}, b + "mlp.in.weight", Transform::Transpose);
      r.add(h + "mlp.c_fc.bias", {M}, b + "mlp.in.bias");
      r.add(h + "mlp.c_proj.weight", {M, D}, b + "mlp.out.weight", Transform::Transpose);
      r.add(h + "mlp.c_proj.bias", {D}, b + "mlp.out.bias");
    }
    r.add("transformer.ln_f.weight", {D}, "ln_final.weight");
    r.add("transformer.ln_f.bias", {D}, "ln_final.bias");
    if (!c.tied_embeddings) r.add("lm_head.weight", {c.d_vocab, D}, "unembed.weight");
  };
  return a;
}

}  // namespace mechscope
