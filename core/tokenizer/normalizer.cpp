#include "core/tokenizer/normalizer.h"

#include <vector>

#include "core/tokenizer/json_helpers.h"
#include "core/tokenizer/pattern.h"
#include "core/tokenizer/unicode.h"

namespace mechscope {

namespace {

using namespace json_helpers;

// Canonical (de)composition, chunk by chunk: a chunk is a character that cannot combine with what
// precedes it plus the characters that may. An unchanged chunk keeps its per-character alignment;
// a changed one is aligned as a whole to its original range.
void apply_canonical(NormalizedString& text, bool compose) {
  const std::string& s = text.text();
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return;
  NormalizedString out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t chunk_begin = pos;
    std::u32string chunk;
    unicode::Utf8Char c = unicode::next_char(s, pos);
    chunk.push_back(c.code_point);
    pos += c.length;
    while (pos < s.size()) {
      c = unicode::next_char(s, pos);
      if (!unicode::composes_with_previous(c.code_point)) break;
      chunk.push_back(c.code_point);
      pos += c.length;
    }
    if (chunk.size() == 1 && chunk[0] < 0xC0) {
      out.append(std::string_view(s).substr(chunk_begin, pos - chunk_begin),
                 text.original_range(chunk_begin, pos));
      continue;
    }
    const std::u32string result = compose ? unicode::nfc(chunk) : unicode::nfd(chunk);
    if (result == chunk) {
      for (size_t i = chunk_begin; i < pos; ++i) {
        out.append(std::string_view(s).substr(i, 1), text.alignment(i));
      }
    } else {
      // Like HF: output character k takes the alignment of input character k (the last one when
      // decomposition made more), so a composed character maps to its base character.
      std::vector<size_t> starts;
      for (size_t i = chunk_begin; i < pos; i += unicode::next_char(s, i).length)
        starts.push_back(i);
      for (size_t k = 0; k < result.size(); ++k) {
        const size_t j = std::min(k, starts.size() - 1);
        const size_t char_end = j + 1 < starts.size() ? starts[j + 1] : pos;
        out.append(unicode::to_utf8(result[k]), text.original_range(starts[j], char_end));
      }
    }
  }
  text = std::move(out);
}

class CanonicalNormalizer : public Normalizer {
 public:
  explicit CanonicalNormalizer(bool compose) : compose_(compose) {}
  void normalize(NormalizedString& text) const override { apply_canonical(text, compose_); }

 private:
  bool compose_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void normalize(NormalizedString& text) const override {
    text.map_chars([](std::string_view, char32_t cp, std::string& out) {
      unicode::append_utf8(out, unicode::to_lower(cp));
    });
  }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void normalize(NormalizedString& text) const override {
    const std::string& s = text.text();
    size_t begin = 0, end = s.size();
    if (left_) {
      while (begin < end) {
        const auto c = unicode::next_char(s, begin);
        if (!unicode::is_whitespace(c.code_point)) break;
        begin += c.length;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
        if (!unicode::is_whitespace(unicode::next_char(s, start).code_point)) break;
        end = start;
      }
    }
    if (begin != 0 || end != s.size()) text.trim(begin, end);
  }

 private:
  bool left_, right_;
};

// Removes combining marks (run after NFD, as HF's StripAccents expects).
class StripAccentsNormalizer : public Normalizer {
 public:
  void normalize(NormalizedString& text) const override {
    text.map_chars([](std::string_view bytes, char32_t cp, std::string& out) {
      if (unicode::combining_class(cp) == 0) out.append(bytes);
    });
  }
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(NormalizedString& text) const override {
    text.replace_ranges(pattern_.find_all(text.text()), content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(NormalizedString& text) const override { text.prepend(prefix_); }

 private:
  std::string prefix_;
};

bool is_chinese_char(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text),
        chinese_(chinese),
        strip_accents_(strip_accents),
        lowercase_(lowercase) {}
  void normalize(NormalizedString& text) const override {
    const bool clean = clean_text_, chinese = chinese_;
    text.map_chars([clean, chinese](std::string_view bytes, char32_t cp, std::string& out) {
      if (clean) {
        const bool control =
            (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7F && cp < 0xA0);
        if (cp == 0 || cp == 0xFFFD || control) return;
        if (unicode::is_whitespace(cp)) {
          out.push_back(' ');
          return;
        }
      }
      if (chinese && is_chinese_char(cp)) {
        out.push_back(' ');
        out.append(bytes);
        out.push_back(' ');
        return;
      }
      out.append(bytes);
    });
    if (strip_accents_) {
      CanonicalNormalizer(false).normalize(text);
      StripAccentsNormalizer().normalize(text);
    }
    if (lowercase_) LowercaseNormalizer().normalize(text);
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> items)
      : items_(std::move(items)) {}
  void normalize(NormalizedString& text) const override {
    for (const auto& n : items_) n->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& config,
                                            const std::string& where) {
  if (config.is_null()) return nullptr;
  const std::string type = get_type(config, "normalizer", where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> items;
    for (const auto& item : config.value("normalizers", nlohmann::json::array())) {
      if (auto n = make_normalizer(item, where)) items.push_back(std::move(n));
    }
    return std::make_unique<SequenceNormalizer>(std::move(items));
  }
  if (type == "NFC") return std::make_unique<CanonicalNormalizer>(true);
  if (type == "NFD") return std::make_unique<CanonicalNormalizer>(false);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(get_bool(config, "strip_left", true),
                                             get_bool(config, "strip_right", true));
  }
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(get_pattern(config.at("pattern"), where),
                                               get_string(config, "content", ""));
  }
  if (type == "Prepend")
    return std::make_unique<PrependNormalizer>(get_string(config, "prepend", ""));
  if (type == "BertNormalizer") {
    const bool lowercase = get_bool(config, "lowercase", true);
    auto it = config.find("strip_accents");
    const bool strip = (it != config.end() && it->is_boolean()) ? it->get<bool>() : lowercase;
    return std::make_unique<BertNormalizer>(get_bool(config, "clean_text", true),
                                            get_bool(config, "handle_chinese_chars", true), strip,
                                            lowercase);
  }
  unsupported("normalizer", type, where);
}

}  // namespace mechscope
