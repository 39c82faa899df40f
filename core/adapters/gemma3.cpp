// Gemma3ForCausalLM (text only, model_type gemma3_text): Gemma 2's layout plus q/k norms, five
// local layers per global one by default, and RoPE bases of their own for local (10k) and global
// (1M, with rope scaling in the larger models) layers. No attention soft-capping: HF's Gemma 3
// attention does not apply attn_logit_softcapping (transformers 5.24), so neither do we.
#include "core/adapters/families.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

/// Global layers: rope_theta (default 1M) and rope scaling; local layers: their own base, no
/// scaling. transformers 5 writes one `rope_parameters` entry per layer type; 4.x files have
/// `rope_theta`, `rope_scaling` (global) and `rope_local_base_freq` at the top level.
void read_gemma3_rope(const ConfigFields& f, ModelConfig& c) {
  const nlohmann::json& j = f.json();
  const bool per_type = j.contains("rope_parameters") && j["rope_parameters"].is_object() &&
                        j["rope_parameters"].contains("full_attention");
  c.rope_scaling = RopeScaling{};
  c.rotary_base = 1e6;
  if (!per_type) {
    read_rope(f, c);
    c.rotary_base_local = f.number("rope_local_base_freq", 10000.0);
    return;
  }
  const nlohmann::json global = {{"rope_parameters", j["rope_parameters"]["full_attention"]}};
  read_rope(ConfigFields(global, f.source() + " (full_attention)"), c);
  c.rotary_base_local = 10000.0;
  const nlohmann::json& local = j["rope_parameters"].value("sliding_attention", nlohmann::json());
  if (!local.is_object()) return;
  ConfigFields l(local, f.source() + " (sliding_attention rope parameters)");
  if (l.string("rope_type", "default") != "default")
    throw Error("RoPE scaling on Gemma 3's local layers (" + l.source() + ") is not supported.");
  c.rotary_base_local = l.number("rope_theta", 10000.0);
}

}  // namespace

Adapter gemma3_adapter() {
  Adapter a;
  a.architectures = {"Gemma3ForCausalLM"};
  a.family = "gemma3";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    ConfigFields f(j, source);
    ModelConfig c = read_gemma_config(f, "hidden_activation");
    c.n_ctx = f.integer("max_position_embeddings", 131072);
    read_gemma2_like_config(f, c, f.integer("sliding_window_pattern", 6), /*final_soft_cap=*/0);
    c.use_qk_norm = true;  // each query and key head RMS-normalised (1 + w) before RoPE
    read_gemma3_rope(f, c);
    return c;
  };
  a.tensors = gemma_tensors;
  return a;
}

}  // namespace mechscope
