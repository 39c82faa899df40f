// The one table of checkpoint families, keyed by the HF `architectures` string.
#include "core/adapters/families.h"

namespace mechscope {
namespace {

const std::vector<Adapter>& registry() {
  static const std::vector<Adapter> adapters = {
      gpt2_adapter(),    gpt_neox_adapter(), llama_adapter(),   mistral_adapter(),
      qwen2_adapter(),   llava_adapter(),    gemma_adapter(),   gemma2_adapter(),
      gemma3_adapter(),
  };
  return adapters;
}

}  // namespace

const Adapter* find_adapter(const std::string& architecture) {
  for (const auto& a : registry())
    for (const auto& name : a.architectures)
      if (name == architecture) return &a;
  return nullptr;
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> out;
  for (const auto& a : registry())
    for (const auto& name : a.architectures) out.push_back(name);
  return out;
}

}  // namespace mechscope
