#include "core/tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/tokenizer/json_helpers.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

using namespace json_helpers;

// A token named in tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> config_token(const nlohmann::json& config, const char* key) {
  if (!config.is_object()) return std::nullopt;
  auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  return std::nullopt;
}

std::optional<bool> config_bool(const nlohmann::json& config, const char* key) {
  if (!config.is_object()) return std::nullopt;
  auto it = config.find(key);
  if (it == config.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

nlohmann::json read_json(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error("The " + std::string(what) + " " + path.string() + " does not exist.");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("The " + std::string(what) + " " + path.string() + " cannot be opened.");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error("The " + std::string(what) + " " + path.string() +
                " is not valid JSON: " + e.what() + ".");
  }
}

}  // namespace

HfTokenizer::HfTokenizer(const nlohmann::json& tokenizer, const nlohmann::json& config,
                         const std::string& where) {
  if (!tokenizer.is_object()) {
    throw Error("The tokenizer file " + where + " does not contain a JSON object.");
  }
  model_ = make_model(tokenizer.value("model", nlohmann::json()), where);
  normalizer_ = make_normalizer(tokenizer.value("normalizer", nlohmann::json()), where);
  pre_tokenizer_ = make_pre_tokenizer(tokenizer.value("pre_tokenizer", nlohmann::json()), where);
  post_processor_ = make_post_processor(tokenizer.value("post_processor", nlohmann::json()), where);
  decoder_ = make_decoder(tokenizer.value("decoder", nlohmann::json()), where);

  vocab_size_ = model_->vocab().size();
  const auto added = tokenizer.value("added_tokens", nlohmann::json::array());
  if (!added.is_array()) {
    throw Error("The tokenizer file " + where + " has \"added_tokens\" that are not a list.");
  }
  added_tokens_.reserve(added.size());
  for (const auto& entry : added) {
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer() ||
        !entry.contains("content") || !entry["content"].is_string()) {
      throw Error("The tokenizer file " + where +
                  " has an added token without an integer \"id\" and a string \"content\".");
    }
    AddedToken t;
    t.id = entry["id"].get<int64_t>();
    t.content = entry["content"].get<std::string>();
    t.special = get_bool(entry, "special", false);
    t.lstrip = get_bool(entry, "lstrip", false);
    t.rstrip = get_bool(entry, "rstrip", false);
    t.single_word = get_bool(entry, "single_word", false);
    t.normalized = get_bool(entry, "normalized", !t.special);
    if (t.id < 0) {
      throw Error("The tokenizer file " + where + " gives the added token '" + t.content +
                  "' a negative id.");
    }
    vocab_size_ = std::max(vocab_size_, t.id + 1);
    added_tokens_.push_back(std::move(t));
  }
  std::vector<const AddedToken*> original, normalized;
  for (size_t i = 0; i < added_tokens_.size(); ++i) {
    const AddedToken& t = added_tokens_[i];
    added_by_id_[t.id] = i;
    added_by_content_.emplace(t.content, t.id);
    // Without a normalizer both kinds match the same text; matching once keeps it simple.
    (t.normalized && normalizer_ ? normalized : original).push_back(&t);
  }
  original_matcher_ = AddedTokenMatcher(original);
  normalized_matcher_ = AddedTokenMatcher(normalized);

  // BOS/EOS: tokenizer_config.json first, otherwise the usual names among the special tokens.
  auto resolve = [this](const std::optional<std::string>& name) -> std::optional<int64_t> {
    return name ? token_to_id(*name) : std::nullopt;
  };
  bos_id_ = resolve(config_token(config, "bos_token"));
  eos_id_ = resolve(config_token(config, "eos_token"));
  auto first_special = [this](std::initializer_list<const char*> names) -> std::optional<int64_t> {
    for (const char* name : names) {
      auto it = added_by_content_.find(name);
      if (it != added_by_content_.end()) return it->second;
    }
    return std::nullopt;
  };
  // An explicit "bos_token": null in tokenizer_config.json means there is none (Qwen2).
  const bool config_names_bos = config.is_object() && config.contains("bos_token");
  const bool config_names_eos = config.is_object() && config.contains("eos_token");
  if (!bos_id_ && !config_names_bos) {
    bos_id_ = first_special(
        {"<|begin_of_text|>", "<s>", "<bos>", "<|startoftext|>", "[CLS]", "<|endoftext|>"});
  }
  if (!eos_id_ && !config_names_eos) {
    eos_id_ =
        first_special({"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>", "<|im_end|>", "[SEP]"});
  }
  add_bos_ = config_bool(config, "add_bos_token");
  add_eos_ = config_bool(config, "add_eos_token");
}

const AddedToken* HfTokenizer::added_token(int64_t id) const {
  auto it = added_by_id_.find(id);
  return it == added_by_id_.end() ? nullptr : &added_tokens_[it->second];
}

bool HfTokenizer::is_special(int64_t id) const {
  const AddedToken* t = added_token(id);
  return t != nullptr && t->special;
}

void HfTokenizer::encode_plain(const std::string& text, size_t begin, size_t end,
                               TokenSequence& out) const {
  NormalizedString normalized(text, begin, end);
  if (normalizer_) normalizer_->normalize(normalized);

  auto tokenize = [this, &out](const NormalizedString& part) {
    std::vector<NormalizedString> pieces{part};
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
    std::vector<ModelToken> tokens;
    for (const auto& piece : pieces) {
      tokens.clear();
      model_->tokenize(piece.text(), tokens);
      for (const auto& t : tokens) {
        out.ids.push_back(t.id);
        out.offsets.push_back(piece.original_range(t.begin, t.end));
        out.added.push_back(false);
      }
    }
  };
  size_t pos = 0;
  for (const auto& m : normalized_matcher_.find(normalized.text())) {
    if (m.begin > pos) tokenize(normalized.slice(pos, m.begin));
    out.ids.push_back(m.token->id);
    out.offsets.push_back(normalized.original_range(m.begin, m.end));
    out.added.push_back(false);
    pos = m.end;
  }
  if (pos < normalized.size()) tokenize(normalized.slice(pos, normalized.size()));
}

void HfTokenizer::apply_config_specials(TokenSequence& seq) const {
  auto insert = [&seq](size_t at, int64_t id) {
    seq.ids.insert(seq.ids.begin() + at, id);
    seq.offsets.insert(seq.offsets.begin() + at, ByteRange{0, 0});
    seq.added.insert(seq.added.begin() + at, true);
  };
  auto erase = [&seq](size_t at) {
    seq.ids.erase(seq.ids.begin() + at);
    seq.offsets.erase(seq.offsets.begin() + at);
    seq.added.erase(seq.added.begin() + at);
  };
  if (add_bos_ && bos_id_) {
    const bool has = !seq.ids.empty() && seq.added.front() && seq.ids.front() == *bos_id_;
    if (*add_bos_ && !has) insert(0, *bos_id_);
    if (!*add_bos_ && has) erase(0);
  }
  if (add_eos_ && eos_id_) {
    const bool has = !seq.ids.empty() && seq.added.back() && seq.ids.back() == *eos_id_;
    if (*add_eos_ && !has) insert(seq.ids.size(), *eos_id_);
    if (!*add_eos_ && has) erase(seq.ids.size() - 1);
  }
}

Encoding HfTokenizer::encode(const std::string& text, bool add_special_tokens) const {
  TokenSequence seq;
  size_t pos = 0;
  for (const auto& m : original_matcher_.find(text)) {
    if (m.begin > pos) encode_plain(text, pos, m.begin, seq);
    seq.ids.push_back(m.token->id);
    seq.offsets.emplace_back(m.begin, m.end);
    seq.added.push_back(false);
    pos = m.end;
  }
  if (pos < text.size()) encode_plain(text, pos, text.size(), seq);

  if (post_processor_) {
    post_processor_->process(seq, add_special_tokens,
                             [this](int64_t id) { return token_string(id); });
  }
  if (add_special_tokens) apply_config_specials(seq);
  return Encoding{std::move(seq.ids), std::move(seq.offsets)};
}

std::string HfTokenizer::decode_tokens(std::vector<std::string> tokens, bool whole_text) const {
  if (!decoder_) {
    // HF joins the tokens with spaces when there is no decoder.
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return unicode::sanitize_utf8(out);
  }
  decoder_->decode_chain(tokens, whole_text);
  std::string out;
  for (const auto& t : tokens) out += t;
  return unicode::sanitize_utf8(out);
}

std::string HfTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (const AddedToken* t = added_token(id)) {
      if (!(skip_special_tokens && t->special)) tokens.push_back(t->content);
    } else if (const std::string* s = model_->vocab().token(id)) {
      tokens.push_back(*s);
    }
  }
  return decode_tokens(std::move(tokens), true);
}

std::string HfTokenizer::token_text(int64_t id) const {
  if (const AddedToken* t = added_token(id)) return t->content;
  const std::string* s = model_->vocab().token(id);
  if (s == nullptr) return {};
  return decode_tokens({*s}, false);
}

std::string HfTokenizer::token_string(int64_t id) const {
  if (const AddedToken* t = added_token(id)) return t->content;
  const std::string* s = model_->vocab().token(id);
  return s ? *s : std::string();
}

std::optional<int64_t> HfTokenizer::token_to_id(const std::string& token) const {
  auto it = added_by_content_.find(token);
  if (it != added_by_content_.end()) return it->second;
  return model_->vocab().find(token);
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(
    const std::filesystem::path& tokenizer_json,
    const std::optional<std::filesystem::path>& tokenizer_config) {
  const nlohmann::json tokenizer = read_json(tokenizer_json, "tokenizer file");
  nlohmann::json config;
  if (tokenizer_config) config = read_json(*tokenizer_config, "tokenizer configuration file");
  try {
    return std::make_unique<HfTokenizer>(tokenizer, config, tokenizer_json.string());
  } catch (const nlohmann::json::exception& e) {
    throw Error("The tokenizer file " + tokenizer_json.string() +
                " has an unexpected structure: " + e.what() + ".");
  }
}

}  // namespace mechscope
