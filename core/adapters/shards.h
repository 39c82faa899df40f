#pragma once
/// The safetensors files of a Hugging Face checkpoint (single or sharded) and reading an adapter's
/// tensor table from them: presence, shapes and total size are checked before anything is read.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/adapters/adapter.h"
#include "core/io/safetensors.h"
#include "core/model/weights.h"

namespace mechscope {

class Shards {
 public:
  /// Opens model.safetensors or model.safetensors.index.json + shards in `dir`.
  explicit Shards(const std::filesystem::path& dir);
  /// The file holding the first of `names` that exists (nullptr if none) and that name.
  std::pair<const SafetensorsFile*, std::string> find(const std::vector<std::string>& names) const;
  /// "model.safetensors" or "N shards in DIR", for messages.
  std::string describe() const;

 private:
  void add(const std::filesystem::path& p);
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsFile*> where_;
};

/// The names under which a rule's tensor may be stored (layouts differ between exporters).
using NameCandidates = std::function<std::vector<std::string>(const std::string& rule_name)>;

/// The rule name as is, and without its first component (GPT-2 checkpoints store `h.0.…` as well
/// as `transformer.h.0.…`).
std::vector<std::string> default_candidates(const std::string& name);

/// Reads every rule into canonical tensors (as f32 views where possible). Throws mechscope::Error
/// naming the file, the tensor and both shapes, or the missing tensor, or the memory shortfall.
CanonicalTensors read_rules(const TensorRules& rules, const Shards& shards, const ModelConfig& cfg,
                            const std::string& source,
                            const NameCandidates& candidates = default_candidates);

/// "[2, 3]", for messages.
std::string shape_str(const std::vector<int64_t>& shape);

/// Applies one rule's transform to its stored tensor `t`, filling the canonical slot(s).
void apply_rule(const TensorRule& rule, at::Tensor t, const ModelConfig& cfg,
                CanonicalTensors& out);

/// Q or K rows [heads·head_size, in] (or a bias [heads·head_size]) whose RoPE rotates adjacent
/// pairs (2i, 2i+1) → the rotate-half order (i, i + head_size/2) within each head: undoes the
/// permutation llama.cpp's converters apply, and converts llama2.c checkpoints.
at::Tensor pairs_to_halves(const at::Tensor& w, int64_t heads);

}  // namespace mechscope
