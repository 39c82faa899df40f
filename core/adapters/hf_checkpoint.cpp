// Loading a Hugging Face model folder: config.json → adapter → tensor table → Weights.
#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "core/adapters/adapter.h"
#include "core/io/safetensors.h"
#include "core/model/loader.h"
#include "core/util/error.h"
#include "core/util/memory.h"

namespace mechscope {
namespace {

namespace fs = std::filesystem;

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

/// The safetensors files of a checkpoint, single or sharded, with a name → file index.
class Shards {
 public:
  explicit Shards(const fs::path& dir) {
    const fs::path single = dir / "model.safetensors";
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(single)) {
      add(single);
    } else if (fs::exists(index)) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(read_text_file(index));
      } catch (const nlohmann::json::exception& e) {
        throw Error("Invalid shard index " + index.string() + ": " + e.what() + ".");
      }
      if (!j.contains("weight_map") || !j["weight_map"].is_object())
        throw Error("Invalid shard index " + index.string() + ": it has no weight_map object.");
      std::set<std::string> files;
      for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
        if (!it.value().is_string())
          throw Error("Invalid shard index " + index.string() + ": entry '" + it.key() +
                      "' does not name a file.");
        const std::string f = it.value().get<std::string>();
        if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
          throw Error("Invalid shard index " + index.string() + ": shard name '" + f +
                      "' is not a plain file name.");
        files.insert(f);
      }
      for (const auto& f : files) add(dir / f);
    } else {
      throw Error("No weights in " + dir.string() +
                  ": expected model.safetensors or model.safetensors.index.json.");
    }
  }

  /// The file holding `name`, also trying the name without its first component (some GPT-2
  /// checkpoints store `h.0.…` instead of `transformer.h.0.…`).
  std::pair<const SafetensorsFile*, std::string> find(const std::string& name) const {
    auto it = where_.find(name);
    if (it != where_.end()) return {it->second, name};
    const auto dot = name.find('.');
    if (dot != std::string::npos) {
      it = where_.find(name.substr(dot + 1));
      if (it != where_.end()) return {it->second, it->first};
    }
    return {nullptr, name};
  }

  std::string describe() const {
    return files_.size() == 1 ? files_[0]->path().string()
                              : std::to_string(files_.size()) + " shards in " +
                                    files_[0]->path().parent_path().string();
  }

 private:
  void add(const fs::path& p) {
    files_.push_back(std::make_unique<SafetensorsFile>(p));
    for (const auto& n : files_.back()->names()) where_[n] = files_.back().get();
  }
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

std::string qkv_slot(const std::string& slot, const char* part) {
  std::string s = slot;
  s.replace(s.find("{qkv}"), 5, part);
  return s;
}

void apply_rule(const TensorRule& rule, at::Tensor t, const ModelConfig& cfg,
                CanonicalTensors& out) {
  switch (rule.transform) {
    case Transform::None: out[rule.slot] = t; return;
    case Transform::Transpose: out[rule.slot] = t.t(); return;
    case Transform::SplitQKV: {
      at::Tensor rows = t.dim() == 2 ? t.t() : t;  // Conv1D [in, 3 out] → [3 out, in]
      auto parts = rows.chunk(3, 0);
      out[qkv_slot(rule.slot, "q")] = parts[0];
      out[qkv_slot(rule.slot, "k")] = parts[1];
      out[qkv_slot(rule.slot, "v")] = parts[2];
      return;
    }
    case Transform::SplitQKVHeads: {
      const int64_t H = cfg.n_heads, dh = cfg.d_head;
      // [H·3·d_head, …] laid out per head as q|k|v.
      at::Tensor per_head = t.dim() == 2 ? t.view({H, 3, dh, t.size(1)}) : t.view({H, 3, dh});
      const char* names[] = {"q", "k", "v"};
      for (int i = 0; i < 3; ++i) {
        at::Tensor part = per_head.select(1, i);
        out[qkv_slot(rule.slot, names[i])] =
            t.dim() == 2 ? part.reshape({H * dh, t.size(1)}) : part.reshape({H * dh});
      }
      return;
    }
  }
}

}  // namespace

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
  ModelConfig cfg = adapter->read_config(j, source);
  cfg.architecture = arch;
  cfg.family = adapter->family;
  cfg.validate(source);

  TensorRules rules;
  adapter->tensors(cfg, rules);
  Shards shards(dir);

  // Check presence, shapes and total size before materialising anything.
  uint64_t bytes = 0;
  for (const auto& rule : rules.rules()) {
    auto [file, name] = shards.find(rule.name);
    if (file == nullptr) {
      if (rule.optional) continue;
      throw Error("Tensor '" + rule.name + "' is missing from " + shards.describe() + " (" +
                  arch + " needs it).");
    }
    const auto& e = file->entry(name);
    if (e.shape != rule.shape)
      throw Error("Tensor '" + name + "' in " + file->path().string() + " has shape " +
                  shape_str(e.shape) + " but " + source + " implies " + shape_str(rule.shape) +
                  ".");
    uint64_t n = 1;
    for (auto d : e.shape) n *= static_cast<uint64_t>(d);
    bytes += n * 4;
  }
  check_fits_in_memory(bytes, "The model in " + dir.string());

  CanonicalTensors canonical;
  for (const auto& rule : rules.rules()) {
    auto [file, name] = shards.find(rule.name);
    if (file == nullptr) continue;
    apply_rule(rule, file->tensor(name, at::kFloat), cfg, canonical);
  }
  Weights weights = Weights::assemble(cfg, std::move(canonical), shards.describe());

  std::shared_ptr<const Tokenizer> tokenizer;
  if (options.tokenizer) {
    tokenizer = load_tokenizer(*options.tokenizer, cfg.d_vocab);
  } else if (fs::exists(dir / "tokenizer.json")) {
    std::optional<fs::path> tc;
    if (fs::exists(dir / "tokenizer_config.json")) tc = dir / "tokenizer_config.json";
    tokenizer = load_hf_tokenizer(dir / "tokenizer.json", tc);
  }
  return std::make_unique<Model>(std::move(cfg), std::move(weights), std::move(tokenizer),
                                 ModelSource{dir.string(), "huggingface"});
}

}  // namespace mechscope
