// Fuzz: config.json → ModelConfig through the adapter its `architectures` names (every family's
// field reading and consistency checks).
#include <nlohmann/json.hpp>

#include "core/adapters/adapter.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    std::string arch = "LlamaForCausalLM";
    if (j.is_object() && j.contains("architectures") && j["architectures"].is_array() &&
        !j["architectures"].empty() && j["architectures"][0].is_string())
      arch = j["architectures"][0].get<std::string>();
    if (const mechscope::Adapter* a = mechscope::find_adapter(arch)) {
      const mechscope::ModelConfig c = a->read_config(j, "config.json");
      (void)c.to_json().dump();
    }
  } catch (const mechscope::Error&) {
  } catch (const nlohmann::json::exception&) {
  }
  return 0;
}
