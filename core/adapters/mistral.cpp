// MistralForCausalLM: the Llama layout plus sliding-window attention.
#include "core/adapters/families.h"

namespace mechscope {

Adapter mistral_adapter() {
  Adapter a;
  a.architectures = {"MistralForCausalLM"};
  a.family = "mistral";
  a.read_config = [](const nlohmann::json& j, const std::string& source) {
    ConfigFields f(j, source);
    ModelConfig c = read_llama_like_config(f);
    if (f.has("sliding_window")) c.sliding_window = f.integer("sliding_window");
    return c;
  };
  a.tensors = llama_like_tensors;
  return a;
}

}  // namespace mechscope
