// Loading a Hugging Face model folder: config.json → adapter → tensor table → Weights.
#include <ATen/ATen.h>

#include <map>
#include <memory>

#include "core/adapters/adapter.h"
#include "core/adapters/shards.h"
#include "core/model/loader.h"
#include "core/util/error.h"

namespace mechscope {
namespace fs = std::filesystem;

std::unique_ptr<Model> load_hf_folder(const fs::path& dir, const LoadOptions& options) {
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path))
    throw Error("No config.json in " + dir.string() + ": not a Hugging Face model folder.");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(config_path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("Invalid model configuration " + config_path.string() + ": " + e.what() + ".");
  }
  const std::string source = config_path.string();
  if (!j.is_object() || !j.contains("architectures") || !j["architectures"].is_array() ||
      j["architectures"].empty() || !j["architectures"][0].is_string())
    throw Error("The model configuration " + source + " has no 'architectures' list.");
  const std::string arch = j["architectures"][0].get<std::string>();
  const Adapter* adapter = find_adapter(arch);
  if (adapter == nullptr) {
    std::string list;
    for (const auto& a : supported_architectures()) list += (list.empty() ? "" : ", ") + a;
    throw Error("Unsupported architecture '" + arch + "' in " + source + " (supported: " + list +
                ").");
  }
  if (adapter->load) return adapter->load(dir, j, options);
  ModelConfig cfg = adapter->read_config(j, source);
  cfg.architecture = arch;
  cfg.family = adapter->family;
  cfg.validate(source);

  TensorRules rules;
  adapter->tensors(cfg, rules);
  Shards shards(dir);
  CanonicalTensors canonical = read_rules(rules, shards, cfg, source);
  Weights weights = Weights::assemble(cfg, std::move(canonical), shards.describe());

  auto tokenizer = load_folder_tokenizer(dir, options, cfg.d_vocab);
  return std::make_unique<Model>(std::move(cfg), std::move(weights), std::move(tokenizer),
                                 ModelSource{dir.string(), "huggingface"});
}

}  // namespace mechscope

namespace mechscope {

std::shared_ptr<const Tokenizer> load_folder_tokenizer(const fs::path& dir,
                                                       const LoadOptions& options,
                                                       int64_t vocab_size) {
  if (options.tokenizer) return load_tokenizer(*options.tokenizer, vocab_size);
  if (!fs::exists(dir / "tokenizer.json")) return nullptr;
  std::optional<fs::path> tc;
  if (fs::exists(dir / "tokenizer_config.json")) tc = dir / "tokenizer_config.json";
  return load_hf_tokenizer(dir / "tokenizer.json", tc);
}

}  // namespace mechscope
