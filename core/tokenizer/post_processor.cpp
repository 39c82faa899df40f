#include "core/tokenizer/post_processor.h"

#include <algorithm>
#include <map>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/json_helpers.h"
#include "core/tokenizer/unicode.h"

namespace mechscope {

namespace {

using namespace json_helpers;

// HF's ByteLevel offset trimming: leading/trailing spaces ("Ġ") of a token are not part of its
// offsets, except the one space that add_prefix_space itself added to the first token.
void trim_offsets(TokenSequence& seq, bool add_prefix_space, const TokenLookup& lookup) {
  const std::string space = byte_level::byte_to_chars(' ');
  auto is_space = [&space](char32_t cp) { return cp == 0x120 || unicode::is_whitespace(cp); };
  for (size_t i = 0; i < seq.ids.size(); ++i) {
    if (seq.added[i]) continue;
    const std::u32string chars = unicode::to_u32(lookup(seq.ids[i]));
    size_t leading = 0, trailing = 0;
    while (leading < chars.size() && is_space(chars[leading])) ++leading;
    while (trailing < chars.size() && is_space(chars[chars.size() - 1 - trailing])) ++trailing;
    auto& [begin, end] = seq.offsets[i];
    if (leading > 0) {
      const bool is_first = i == 0 || begin == 0;
      if (!(is_first && add_prefix_space && leading == 1)) begin = std::min(begin + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = std::max(end - trailing, begin);
  }
}

// Surrounds the sequence with fixed special tokens.
void wrap(TokenSequence& seq, const std::vector<int64_t>& before,
          const std::vector<int64_t>& after) {
  TokenSequence out;
  auto push_special = [&out](int64_t id) {
    out.ids.push_back(id);
    out.offsets.emplace_back(0, 0);
    out.added.push_back(true);
  };
  for (int64_t id : before) push_special(id);
  out.ids.insert(out.ids.end(), seq.ids.begin(), seq.ids.end());
  out.offsets.insert(out.offsets.end(), seq.offsets.begin(), seq.offsets.end());
  out.added.insert(out.added.end(), seq.added.begin(), seq.added.end());
  for (int64_t id : after) push_special(id);
  seq = std::move(out);
}

class ByteLevelProcessor : public PostProcessor {
 public:
  ByteLevelProcessor(bool trim, bool add_prefix_space)
      : trim_(trim), add_prefix_space_(add_prefix_space) {}
  void process(TokenSequence& seq, bool, const TokenLookup& lookup) const override {
    if (trim_) trim_offsets(seq, add_prefix_space_, lookup);
  }

 private:
  bool trim_, add_prefix_space_;
};

class TemplateProcessor : public PostProcessor {
 public:
  TemplateProcessor(std::vector<int64_t> before, std::vector<int64_t> after)
      : before_(std::move(before)), after_(std::move(after)) {}
  void process(TokenSequence& seq, bool add_special_tokens, const TokenLookup&) const override {
    if (add_special_tokens) wrap(seq, before_, after_);
  }

 private:
  std::vector<int64_t> before_, after_;
};

class RobertaProcessor : public PostProcessor {
 public:
  RobertaProcessor(int64_t cls, int64_t sep, bool trim, bool add_prefix_space)
      : cls_(cls), sep_(sep), trim_(trim), add_prefix_space_(add_prefix_space) {}
  void process(TokenSequence& seq, bool add_special_tokens,
               const TokenLookup& lookup) const override {
    if (trim_) trim_offsets(seq, add_prefix_space_, lookup);
    if (add_special_tokens) wrap(seq, {cls_}, {sep_});
  }

 private:
  int64_t cls_, sep_;
  bool trim_, add_prefix_space_;
};

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> items)
      : items_(std::move(items)) {}
  void process(TokenSequence& seq, bool add_special_tokens,
               const TokenLookup& lookup) const override {
    for (const auto& p : items_) p->process(seq, add_special_tokens, lookup);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> items_;
};

// A [token, id] pair of BertProcessing / RobertaProcessing.
int64_t pair_id(const nlohmann::json& config, const char* key, const std::string& where) {
  const auto it = config.find(key);
  if (it == config.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer()) {
    throw Error("The tokenizer file " + where + " has a post-processor whose \"" + key +
                "\" is not a [token, id] pair.");
  }
  return (*it)[1].get<int64_t>();
}

std::unique_ptr<PostProcessor> make_template(const nlohmann::json& config,
                                             const std::string& where) {
  std::map<std::string, std::vector<int64_t>> specials;
  const nlohmann::json special_tokens = config.value("special_tokens", nlohmann::json::object());
  for (const auto& [name, entry] : special_tokens.items()) {
    std::vector<int64_t> ids;
    for (const auto& id : entry.value("ids", nlohmann::json::array()))
      ids.push_back(id.get<int64_t>());
    specials[name] = std::move(ids);
  }
  const nlohmann::json single = config.value("single", nlohmann::json::array());
  if (!single.is_array()) {
    throw Error("The tokenizer file " + where +
                " has a TemplateProcessing post-processor whose \"single\" is not a list.");
  }
  std::vector<int64_t> before, after;
  bool seen_sequence = false;
  for (const auto& piece : single) {
    if (piece.contains("Sequence")) {
      seen_sequence = true;
    } else if (piece.contains("SpecialToken")) {
      const std::string name = piece["SpecialToken"].value("id", "");
      auto it = specials.find(name);
      if (it == specials.end()) {
        throw Error("The tokenizer file " + where + " uses the special token '" + name +
                    "' in its template without defining it in \"special_tokens\".");
      }
      auto& target = seen_sequence ? after : before;
      target.insert(target.end(), it->second.begin(), it->second.end());
    }
  }
  return std::make_unique<TemplateProcessor>(std::move(before), std::move(after));
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& config,
                                                   const std::string& where) {
  if (config.is_null()) return nullptr;
  const std::string type = get_type(config, "post_processor", where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> items;
    for (const auto& item : config.value("processors", nlohmann::json::array())) {
      if (auto p = make_post_processor(item, where)) items.push_back(std::move(p));
    }
    return std::make_unique<SequenceProcessor>(std::move(items));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelProcessor>(get_bool(config, "trim_offsets", true),
                                                get_bool(config, "add_prefix_space", true));
  }
  if (type == "TemplateProcessing") return make_template(config, where);
  if (type == "BertProcessing") {
    return std::make_unique<RobertaProcessor>(pair_id(config, "cls", where),
                                              pair_id(config, "sep", where), false, false);
  }
  if (type == "RobertaProcessing") {
    return std::make_unique<RobertaProcessor>(
        pair_id(config, "cls", where), pair_id(config, "sep", where),
        get_bool(config, "trim_offsets", true), get_bool(config, "add_prefix_space", true));
  }
  unsupported("post_processor", type, where);
}

}  // namespace mechscope
