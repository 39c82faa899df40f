#include "core/tokenizer/model.h"

#include <algorithm>

#include "core/tokenizer/bpe.h"
#include "core/tokenizer/json_helpers.h"

namespace mechscope {

Vocab Vocab::from_json(const nlohmann::json& vocab, const std::string& where) {
  if (!vocab.is_object()) {
    throw Error("The tokenizer file " + where + " has a model \"vocab\" that is not an object.");
  }
  Vocab v;
  v.to_id_.reserve(vocab.size());
  int64_t max_id = -1;
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      throw Error("The tokenizer file " + where + " gives the vocabulary entry '" + token +
                  "' an id that is not a non-negative integer.");
    }
    max_id = std::max(max_id, id.get<int64_t>());
    v.to_id_.emplace(token, id.get<int64_t>());
  }
  if (max_id > 50'000'000) {
    throw Error("The tokenizer file " + where + " has an implausibly large token id (" +
                std::to_string(max_id) + ").");
  }
  v.to_token_.resize(static_cast<size_t>(max_id + 1));
  v.present_.assign(static_cast<size_t>(max_id + 1), false);
  for (const auto& [token, id] : v.to_id_) {
    v.to_token_[id] = token;
    v.present_[id] = true;
  }
  return v;
}

namespace {

using namespace json_helpers;

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocab vocab, std::string unk_token)
      : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)) {
    unk_id_ = vocab_.find(unk_token_);
  }
  void tokenize(const std::string& piece, std::vector<ModelToken>& out) const override {
    if (auto id = vocab_.find(piece)) {
      out.push_back({*id, 0, piece.size()});
    } else if (unk_id_) {
      out.push_back({*unk_id_, 0, piece.size()});
    } else {
      throw Error("The word '" + piece +
                  "' is not in the WordLevel vocabulary, which has no "
                  "unknown token ('" +
                  unk_token_ + "').");
    }
  }
  const Vocab& vocab() const override { return vocab_; }

 private:
  Vocab vocab_;
  std::string unk_token_;
  std::optional<int64_t> unk_id_;
};

std::vector<std::pair<std::string, std::string>> parse_merges(const nlohmann::json& merges,
                                                              const std::string& where) {
  std::vector<std::pair<std::string, std::string>> out;
  if (merges.is_null()) return out;
  if (!merges.is_array()) {
    throw Error("The tokenizer file " + where + " has BPE \"merges\" that are not a list.");
  }
  out.reserve(merges.size());
  for (const auto& m : merges) {
    if (m.is_string()) {  // Legacy "left right".
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos) {
        throw Error("The tokenizer file " + where + " has the BPE merge '" + s +
                    "', which is not two tokens separated by a space.");
      }
      out.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw Error("The tokenizer file " + where +
                  " has a BPE merge that is neither \"a b\" nor "
                  "[\"a\", \"b\"]: " +
                  m.dump() + ".");
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<Model> make_model(const nlohmann::json& config, const std::string& where) {
  if (!config.is_object()) {
    throw Error("The tokenizer file " + where + " has no \"model\" object.");
  }
  // Old files omit the type of a BPE model.
  const std::string type = config.contains("type")     ? get_type(config, "model", where)
                           : config.contains("merges") ? "BPE"
                                                       : "WordLevel";
  if (!config.contains("vocab")) {
    throw Error("The tokenizer file " + where + " has a " + type + " model without a \"vocab\".");
  }
  if (type == "BPE") {
    BpeOptions options;
    if (config.contains("unk_token") && config["unk_token"].is_string()) {
      options.unk_token = config["unk_token"].get<std::string>();
    }
    options.continuing_subword_prefix = get_string(config, "continuing_subword_prefix", "");
    options.end_of_word_suffix = get_string(config, "end_of_word_suffix", "");
    options.fuse_unk = get_bool(config, "fuse_unk", false);
    options.byte_fallback = get_bool(config, "byte_fallback", false);
    options.ignore_merges = get_bool(config, "ignore_merges", false);
    return std::make_unique<BpeModel>(Vocab::from_json(config["vocab"], where),
                                      parse_merges(config.value("merges", nlohmann::json()), where),
                                      std::move(options));
  }
  if (type == "WordLevel") {
    return std::make_unique<WordLevelModel>(Vocab::from_json(config["vocab"], where),
                                            get_string(config, "unk_token", "<unk>"));
  }
  unsupported("model", type, where);
}

}  // namespace mechscope
