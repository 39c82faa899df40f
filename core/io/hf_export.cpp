#include "core/io/hf_export.h"

#include <ATen/ATen.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/util/error.h"

namespace mechscope {

void export_hf_llama(const Weights& w, const std::filesystem::path& dir) {
  const ModelConfig& c = w.config();
  if (c.norm != NormKind::RMSNorm || !c.gated_mlp || c.positional != Positional::Rotary ||
      c.rotary_dim != c.d_head || c.parallel_attn_mlp || c.attn_qkv_bias != c.attn_out_bias ||
      c.sliding_window)
    throw Error("Only Llama-layout models (RMSNorm, gated MLP, full rotary, sequential blocks) "
                "can be exported to " + dir.string() + ".");
  std::filesystem::create_directories(dir);
  nlohmann::json cfg = {
      {"architectures", {"LlamaForCausalLM"}},
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
      {"hidden_act", c.act == Activation::Silu ? "silu" : to_string(c.act)},
      {"rope_theta", c.rotary_base},
      {"tie_word_embeddings", c.tied_embeddings},
      {"attention_bias", c.attn_qkv_bias},
      {"mlp_bias", c.mlp_bias},
      {"torch_dtype", "float32"},
  };
  if (c.bos_token_id) cfg["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_id) cfg["eos_token_id"] = *c.eos_token_id;
  std::ofstream(dir / "config.json") << cfg.dump(2) << "\n";

  std::map<std::string, at::Tensor> t;
  auto put = [&](const std::string& name, const at::Tensor& x) {
    if (x.defined()) t[name] = x.detach().to(at::kCPU).to(at::kFloat).contiguous();
  };
  const int64_t q = c.n_heads * c.d_head, kv = c.n_kv_heads * c.d_head;
  put("model.embed_tokens.weight", w.embed);
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[l];
    const std::string h = "model.layers." + std::to_string(l) + ".";
    put(h + "input_layernorm.weight", L.ln1_w);
    put(h + "self_attn.q_proj.weight", L.qkv_w.slice(0, 0, q));
    put(h + "self_attn.k_proj.weight", L.qkv_w.slice(0, q, q + kv));
    put(h + "self_attn.v_proj.weight", L.qkv_w.slice(0, q + kv, q + 2 * kv));
    if (L.qkv_b.defined()) {
      put(h + "self_attn.q_proj.bias", L.qkv_b.slice(0, 0, q));
      put(h + "self_attn.k_proj.bias", L.qkv_b.slice(0, q, q + kv));
      put(h + "self_attn.v_proj.bias", L.qkv_b.slice(0, q + kv, q + 2 * kv));
    }
    put(h + "self_attn.o_proj.weight", L.o_w);
    put(h + "self_attn.o_proj.bias", L.o_b);
    put(h + "post_attention_layernorm.weight", L.ln2_w);
    put(h + "mlp.gate_proj.weight", L.gate_w);
    put(h + "mlp.up_proj.weight", L.in_w);
    put(h + "mlp.up_proj.bias", L.in_b);
    put(h + "mlp.down_proj.weight", L.out_w);
    put(h + "mlp.down_proj.bias", L.out_b);
  }
  put("model.norm.weight", w.lnf_w);
  if (!c.tied_embeddings) put("lm_head.weight", w.unembed_w);
  write_safetensors(dir / "model.safetensors", t, {{"format", "pt"}});
}

}  // namespace mechscope
