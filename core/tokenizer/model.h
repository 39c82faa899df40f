#pragma once
/// Tokenization models of HF tokenizer.json ("model"): BPE (bpe.h) and WordLevel. A model turns
/// one pre-tokenized piece into token ids with byte ranges inside that piece.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mechscope {

/// One token produced by a model: its id and the bytes [begin, end) of the piece it covers.
struct ModelToken {
  int64_t id;
  size_t begin;
  size_t end;
};

/// A model's vocabulary: token string <-> id.
class Vocab {
 public:
  /// Reads a {"token": id, ...} object. Throws mechscope::Error naming `where` on bad entries.
  static Vocab from_json(const nlohmann::json& vocab, const std::string& where);

  std::optional<int64_t> find(const std::string& token) const {
    auto it = to_id_.find(token);
    if (it == to_id_.end()) return std::nullopt;
    return it->second;
  }
  /// The token with this id, or nullptr.
  const std::string* token(int64_t id) const {
    if (id < 0 || id >= static_cast<int64_t>(to_token_.size()) || !present_[id]) return nullptr;
    return &to_token_[id];
  }
  /// Largest id + 1.
  int64_t size() const { return static_cast<int64_t>(to_token_.size()); }

 private:
  std::unordered_map<std::string, int64_t> to_id_;
  std::vector<std::string> to_token_;
  std::vector<bool> present_;
};

class Model {
 public:
  virtual ~Model() = default;
  /// Appends the tokens of `piece` to `out`.
  virtual void tokenize(const std::string& piece, std::vector<ModelToken>& out) const = 0;
  virtual const Vocab& vocab() const = 0;
};

/// Builds the model described by `config`. Throws mechscope::Error naming `where` for an
/// unsupported model type or malformed vocabulary.
std::unique_ptr<Model> make_model(const nlohmann::json& config, const std::string& where);

}  // namespace mechscope
