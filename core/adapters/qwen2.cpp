// Qwen2ForCausalLM: the Llama layout with Q/K/V biases (and no output bias).
#include "core/adapters/families.h"
#include "core/util/error.h"

namespace mechscope {

Adapter qwen2_adapter() {
  Adapter a;
  a.architectures = {"Qwen2ForCausalLM"};
  a.family = "qwen2";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    ConfigFields f(j, source);
    ModelConfig c = read_llama_like_config(f);
    c.attn_qkv_bias = true;
    c.attn_out_bias = false;
    if (f.boolean("use_sliding_window", false))
      throw Error("Qwen2 per-layer sliding-window attention (use_sliding_window) in " + source +
                  " is not supported.");
    return c;
  };
  a.tensors = llama_like_tensors;
  return a;
}

}  // namespace mechscope
