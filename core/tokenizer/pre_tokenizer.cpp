#include "core/tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/json_helpers.h"
#include "core/tokenizer/unicode.h"

namespace mechscope {

const char* const kGpt2SplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::vector<NormalizedString> split_piece(const NormalizedString& piece,
                                          const std::vector<ByteRange>& matches,
                                          SplitBehavior behavior, bool invert) {
  struct Part {
    ByteRange range;
    bool is_match;
  };
  std::vector<Part> parts;
  size_t prev = 0;
  for (const auto& m : matches) {
    if (m.first > prev) parts.push_back({{prev, m.first}, invert});
    parts.push_back({m, !invert});
    prev = m.second;
  }
  if (prev < piece.size()) parts.push_back({{prev, piece.size()}, invert});

  // Merge the parts as HF's NormalizedString::split does for each behaviour.
  std::vector<ByteRange> kept;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const auto& p : parts) {
        if (!p.is_match) kept.push_back(p.range);
      }
      break;
    case SplitBehavior::kIsolated:
      for (const auto& p : parts) kept.push_back(p.range);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const auto& p : parts) {
        if (p.is_match && !previous_match && !kept.empty()) {
          kept.back().second = p.range.second;
        } else {
          kept.push_back(p.range);
        }
        previous_match = p.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->is_match && !previous_match && !kept.empty()) {
          kept.back().first = it->range.first;
        } else {
          kept.push_back(it->range);
        }
        previous_match = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    case SplitBehavior::kContiguous:
      for (size_t i = 0; i < parts.size(); ++i) {
        if (i > 0 && parts[i].is_match == previous_match) {
          kept.back().second = parts[i].range.second;
        } else {
          kept.push_back(parts[i].range);
        }
        previous_match = parts[i].is_match;
      }
      break;
  }
  std::vector<NormalizedString> out;
  out.reserve(kept.size());
  for (const auto& [begin, end] : kept) {
    if (end > begin) out.push_back(piece.slice(begin, end));
  }
  return out;
}

namespace {

using namespace json_helpers;

SplitBehavior parse_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  throw Error("The tokenizer file " + where + " uses the unknown split behavior '" + name + "'.");
}

// Applies `fn(piece) -> pieces` to every piece.
template <typename Fn>
void for_each_piece(std::vector<NormalizedString>& pieces, Fn&& fn) {
  std::vector<NormalizedString> out;
  out.reserve(pieces.size());
  for (auto& piece : pieces) {
    for (auto& part : fn(std::move(piece))) {
      if (!part.empty()) out.push_back(std::move(part));
    }
  }
  pieces = std::move(out);
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<NormalizedString>& pieces) const override {
    for_each_piece(pieces, [this](NormalizedString piece) {
      return split_piece(piece, pattern_.find_all(piece.text()), behavior_, invert_);
    });
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex, const std::string& where)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) regex_ = std::make_unique<Pattern>(Pattern::regex(kGpt2SplitRegex, where));
  }
  void pre_tokenize(std::vector<NormalizedString>& pieces) const override {
    for_each_piece(pieces, [this](NormalizedString piece) {
      if (add_prefix_space_ && piece.text()[0] != ' ') piece.prepend(" ");
      std::vector<NormalizedString> parts;
      if (regex_) {
        parts = split_piece(piece, regex_->find_all(piece.text()), SplitBehavior::kIsolated);
      } else {
        parts.push_back(std::move(piece));
      }
      // Spell every byte as its printable character, keeping each byte's alignment.
      for (auto& part : parts) {
        part.map_chars([](std::string_view bytes, char32_t, std::string& out) {
          for (char b : bytes) out += byte_level::byte_to_chars(static_cast<unsigned char>(b));
        });
      }
      return parts;
    });
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Pattern> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void pre_tokenize(std::vector<NormalizedString>& pieces) const override {
    for_each_piece(pieces, [this](NormalizedString piece) {
      const size_t original_begin = piece.original_range().first;
      const std::string& rep = replacement_;
      piece.map_chars([&rep](std::string_view bytes, char32_t cp, std::string& out) {
        if (cp == ' ') {
          out += rep;
        } else {
          out.append(bytes);
        }
      });
      const bool starts = piece.text().compare(0, rep.size(), rep) == 0;
      // "first" only prepends to the text at the very start of the input (not after an added
      // token), as HF does.
      if (!starts && (scheme_ == PrependScheme::kAlways ||
                      (scheme_ == PrependScheme::kFirst && original_begin == 0))) {
        piece.prepend(rep);
      }
      if (!split_) return std::vector<NormalizedString>{std::move(piece)};
      return split_piece(piece, Pattern::literal(rep).find_all(piece.text()),
                         SplitBehavior::kMergedWithNext);
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> items)
      : items_(std::move(items)) {}
  void pre_tokenize(std::vector<NormalizedString>& pieces) const override {
    for (const auto& p : items_) p->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

// HF's Whitespace pre-tokenizer: \w+|[^\w\s]+ with Rust's \w.
const char* const kWhitespaceRegex =
    "[" MECHSCOPE_RUST_WORD_CLASS "]+|[^" MECHSCOPE_RUST_WORD_CLASS R"(\s]+)";

// ASCII punctuation as Rust's is_ascii_punctuation, plus the Unicode punctuation categories.
const char* const kPunctuationRegex = R"([\p{P}!-/:-@\[-`{-~])";

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& config,
                                                 const std::string& where) {
  if (config.is_null()) return nullptr;
  const std::string type = get_type(config, "pre_tokenizer", where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    for (const auto& item : config.value("pretokenizers", nlohmann::json::array())) {
      if (auto p = make_pre_tokenizer(item, where)) items.push_back(std::move(p));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(get_bool(config, "add_prefix_space", true),
                                                   get_bool(config, "use_regex", true), where);
  }
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(
        get_pattern(config.at("pattern"), where),
        parse_behavior(get_string(config, "behavior", "Isolated"), where),
        get_bool(config, "invert", false));
  }
  if (type == "Metaspace") {
    PrependScheme scheme = PrependScheme::kAlways;
    const std::string name = get_string(config, "prepend_scheme", "");
    if (name == "first") {
      scheme = PrependScheme::kFirst;
    } else if (name == "never") {
      scheme = PrependScheme::kNever;
    } else if (name.empty() && !get_bool(config, "add_prefix_space", true)) {
      scheme = PrependScheme::kNever;  // Older files spell the scheme as add_prefix_space.
    }
    return std::make_unique<MetaspacePreTokenizer>(get_string(config, "replacement", "\u2581"),
                                                   scheme, get_bool(config, "split", true));
  }
  if (type == "Whitespace") {
    return std::make_unique<SplitPreTokenizer>(Pattern::regex(kWhitespaceRegex, where),
                                               SplitBehavior::kRemoved, true);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<SplitPreTokenizer>(Pattern::regex(R"(\s+)", where),
                                               SplitBehavior::kRemoved, false);
  }
  if (type == "Punctuation") {
    return std::make_unique<SplitPreTokenizer>(
        Pattern::regex(kPunctuationRegex, where),
        parse_behavior(get_string(config, "behavior", "Isolated"), where), false);
  }
  if (type == "Digits") {
    const bool individual = get_bool(config, "individual_digits", false);
    return std::make_unique<SplitPreTokenizer>(
        Pattern::regex(R"(\p{N})", where),
        individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    items.push_back(std::make_unique<SplitPreTokenizer>(Pattern::regex(R"(\s+)", where),
                                                        SplitBehavior::kRemoved, false));
    items.push_back(std::make_unique<SplitPreTokenizer>(Pattern::regex(kPunctuationRegex, where),
                                                        SplitBehavior::kIsolated, false));
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  unsupported("pre_tokenizer", type, where);
}

}  // namespace mechscope
