#pragma once
/// A checkpoint family: how to read its config into the common ModelConfig, and a declarative
/// table mapping its tensor names and shapes to canonical slots (see weights.h). All adapters are
/// registered in one table (registry.cpp), keyed by the HF `architectures` string.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/config.h"

#include <filesystem>
#include <memory>

namespace mechscope {

class Model;
struct LoadOptions;

/// How a stored tensor becomes canonical tensors.
enum class Transform {
  None,         // stored [out, in] like nn.Linear (or a vector)
  Transpose,    // stored [in, out] (GPT-2's Conv1D)
  SplitQKV,     // Conv1D [in, 3·out] or bias [3·out]: q|k|v thirds → slots "<slot>" with {qkv}
  SplitQKVHeads,  // GPT-NeoX [heads·3·d_head, in]: per head q|k|v → slots with {qkv}
  PlusOne,        // a Gemma norm gain w, applied as (1 + w): loaded as 1 + w (in f32), so the
                  // forward pass's norm is the ordinary one (TransformerLens folds it the same way)
};

struct TensorRule {
  std::string name;            // the tensor's name in the checkpoint
  std::vector<int64_t> shape;  // its expected shape in the checkpoint
  std::string slot;            // canonical slot; "{qkv}" is replaced by q, k, v for splits
  Transform transform = Transform::None;
  bool optional = false;
};

/// Collects rules; adapters add one line per tensor, like llama.cpp's create_tensor().
class TensorRules {
 public:
  void add(std::string name, std::vector<int64_t> shape, std::string slot,
           Transform t = Transform::None, bool optional = false) {
    rules_.push_back({std::move(name), std::move(shape), std::move(slot), t, optional});
  }
  const std::vector<TensorRule>& rules() const { return rules_; }

 private:
  std::vector<TensorRule> rules_;
};

struct Adapter {
  std::vector<std::string> architectures;
  std::string family;
  /// Reads the HF config.json into a ModelConfig; `source` names the file in errors.
  std::function<ModelConfig(const nlohmann::json& config, const std::string& source)> read_config;
  /// Declares every tensor the family's checkpoints hold.
  std::function<void(const ModelConfig& cfg, TensorRules& rules)> tensors;
  /// Composite checkpoints (LLaVA) load themselves; when set, the generic path is not used.
  std::function<std::unique_ptr<Model>(const std::filesystem::path& dir,
                                       const nlohmann::json& config, const LoadOptions& options)>
      load;
};

/// The adapter for an `architectures` string, or nullptr.
const Adapter* find_adapter(const std::string& architecture);
/// Every supported `architectures` string (for error messages and --help).
std::vector<std::string> supported_architectures();

/// Typed access to config.json fields with errors that name the file and the field.
class ConfigFields {
 public:
  ConfigFields(const nlohmann::json& j, std::string source) : j_(j), source_(std::move(source)) {}
  int64_t integer(const char* key) const;
  int64_t integer(const char* key, int64_t fallback) const;
  double number(const char* key, double fallback) const;
  bool boolean(const char* key, bool fallback) const;
  std::string string(const char* key, const std::string& fallback) const;
  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  const nlohmann::json& json() const { return j_; }
  const std::string& source() const { return source_; }

 private:
  const nlohmann::json& j_;
  std::string source_;
};

/// Reads rope_theta and rope scaling from either the classic fields (`rope_theta`,
/// `rope_scaling`) or the newer `rope_parameters` dict; `theta_key` names the family's field.
void read_rope(const ConfigFields& f, ModelConfig& cfg, const char* theta_key = "rope_theta");

/// Reads bos/eos token ids (eos may be a list: the first is used).
void read_special_ids(const ConfigFields& f, ModelConfig& cfg);

}  // namespace mechscope
