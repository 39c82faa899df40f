// Gemma2ForCausalLM: Gemma with sandwich norms (a second RMSNorm on the attention and MLP
// outputs), attention scaled by query_pre_attn_scalar, local (sliding-window) layers alternating
// with global ones, and soft-capped attention scores and logits.
#include <cmath>

#include "core/adapters/families.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

/// A soft cap: HF's default when the field is absent, none when it is null.
double soft_cap_field(const ConfigFields& f, const char* key, double hf_default) {
  if (!f.json().contains(key)) return hf_default;
  return f.has(key) ? f.number(key, 0) : 0;
}

}  // namespace

void read_gemma2_like_config(const ConfigFields& f, ModelConfig& c, int64_t pattern,
                             double final_soft_cap) {
  if (pattern <= 0)
    throw Error("The field 'sliding_window_pattern' in " + f.source() + " must be positive.");
  c.use_normalization_before_and_after = true;
  // Scores are q·k / √query_pre_attn_scalar (not always head_dim: Gemma 2 27B uses
  // d_model / n_heads).
  c.attn_scale = std::sqrt(f.number("query_pre_attn_scalar", 256));
  c.output_logits_soft_cap = soft_cap_field(f, "final_logit_softcapping", final_soft_cap);
  // Local layers see the last sliding_window keys; a null window leaves every layer global.
  const bool windowed = !f.json().contains("sliding_window") || f.has("sliding_window");
  if (windowed) c.sliding_window = f.integer("sliding_window", 4096);
  c.attn_types.clear();
  if (f.has("layer_types")) {
    const nlohmann::json& types = f.json()["layer_types"];
    if (!types.is_array() || int64_t(types.size()) != c.n_layers)
      throw Error("The field 'layer_types' in " + f.source() + " must list one type per layer (" +
                  std::to_string(c.n_layers) + ").");
    for (const auto& t : types) {
      const std::string s = t.is_string() ? t.get<std::string>() : "";
      if (s != "sliding_attention" && s != "full_attention")
        throw Error("Unsupported layer type '" + t.dump() + "' in " + f.source() +
                    " (supported: sliding_attention, full_attention).");
      c.attn_types.push_back(s == "sliding_attention" && windowed ? AttnType::Local
                                                                  : AttnType::Global);
    }
  } else {  // HF's default: every pattern-th layer is global, counting from 1
    for (int64_t l = 0; l < c.n_layers; ++l)
      c.attn_types.push_back((l + 1) % pattern != 0 && windowed ? AttnType::Local
                                                                : AttnType::Global);
  }
}

Adapter gemma2_adapter() {
  Adapter a;
  a.architectures = {"Gemma2ForCausalLM"};
  a.family = "gemma2";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    ConfigFields f(j, source);
    ModelConfig c = read_gemma_config(f, "hidden_activation");
    // Even layers local, odd ones global; logits soft-capped at 30 unless the config says
    // otherwise, attention scores at 50.
    read_gemma2_like_config(f, c, /*pattern=*/2, /*final_soft_cap=*/30.0);
    c.attn_scores_soft_cap = soft_cap_field(f, "attn_logit_softcapping", 50.0);
    return c;
  };
  a.tensors = gemma_tensors;
  return a;
}

}  // namespace mechscope
