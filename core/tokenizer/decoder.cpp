#include "core/tokenizer/decoder.h"

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/json_helpers.h"
#include "core/tokenizer/pattern.h"
#include "core/tokenizer/unicode.h"

namespace mechscope {

namespace {

using namespace json_helpers;

std::optional<unsigned char> parse_byte_token(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(token[3]), lo = hex(token[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<unsigned char>(hi * 16 + lo);
}

std::string replace_all(const std::string& text, const Pattern& pattern, const std::string& with) {
  const auto matches = pattern.find_all(text);
  if (matches.empty()) return text;
  std::string out;
  size_t pos = 0;
  for (const auto& [begin, end] : matches) {
    out.append(text, pos, begin - pos);
    out += with;
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    std::string bytes;
    for (const auto& t : tokens) bytes += byte_level::decode(t);
    tokens.assign(1, unicode::sanitize_utf8(bytes));
  }
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (auto& t : tokens) t = replace_all(t, pattern_, content_);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    fuse_byte_tokens(tokens);
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    std::string joined;
    for (const auto& t : tokens) joined += t;
    tokens.assign(1, std::move(joined));
  }
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens, bool whole_text) const override {
    if (!whole_text || content_.empty()) return;
    for (auto& t : tokens) {
      size_t begin = 0, end = t.size();
      for (size_t i = 0; i < start_ && t.compare(begin, content_.size(), content_) == 0; ++i) {
        begin += content_.size();
      }
      for (size_t i = 0; i < stop_ && end >= begin + content_.size() &&
                         t.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i) {
        end -= content_.size();
      }
      t = t.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode_chain(std::vector<std::string>& tokens, bool whole_text) const override {
    const Pattern pattern = Pattern::literal(replacement_);
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] = replace_all(tokens[i], pattern, " ");
      // The space the pre-tokenizer prepended is not part of the text.
      if (i == 0 && whole_text && strip_first_ && !tokens[i].empty() && tokens[i][0] == ' ') {
        tokens[i].erase(0, 1);
      }
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens, bool whole_text) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (!prefix_.empty() && t.compare(0, prefix_.size(), prefix_) == 0) {
        t.erase(0, prefix_.size());
      } else if (i > 0 || !whole_text) {
        t.insert(0, " ");
      }
      if (cleanup_) {
        static const std::pair<const char*, const char*> kCleanups[] = {
            {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
            {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
            {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& [from, to] : kCleanups) t = replace_all(t, Pattern::literal(from), to);
      }
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] =
          replace_all(tokens[i], Pattern::literal(suffix_), i + 1 == tokens.size() ? "" : " ");
    }
  }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> items)
      : items_(std::move(items)) {}
  void decode_chain(std::vector<std::string>& tokens, bool whole_text) const override {
    for (const auto& d : items_) d->decode_chain(tokens, whole_text);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> items_;
};

}  // namespace

void fuse_byte_tokens(std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  std::string bytes;
  size_t byte_count = 0;
  auto flush = [&] {
    if (byte_count == 0) return;
    if (unicode::is_valid_utf8(bytes)) {
      out.push_back(bytes);
    } else {
      for (size_t i = 0; i < byte_count; ++i) out.push_back(unicode::to_utf8(0xFFFD));
    }
    bytes.clear();
    byte_count = 0;
  };
  for (auto& t : tokens) {
    if (auto b = parse_byte_token(t)) {
      bytes.push_back(static_cast<char>(*b));
      ++byte_count;
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  tokens = std::move(out);
}

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& config, const std::string& where) {
  if (config.is_null()) return nullptr;
  const std::string type = get_type(config, "decoder", where);
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> items;
    for (const auto& item : config.value("decoders", nlohmann::json::array())) {
      if (auto d = make_decoder(item, where)) items.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(items));
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(get_pattern(config.at("pattern"), where),
                                            get_string(config, "content", ""));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(get_string(config, "content", " "),
                                          static_cast<size_t>(get_int(config, "start", 0)),
                                          static_cast<size_t>(get_int(config, "stop", 0)));
  }
  if (type == "Metaspace") {
    const std::string scheme = get_string(config, "prepend_scheme", "");
    const bool strip =
        scheme.empty() ? get_bool(config, "add_prefix_space", true) : scheme != "never";
    return std::make_unique<MetaspaceDecoder>(get_string(config, "replacement", "\u2581"), strip);
  }
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(get_string(config, "prefix", "##"),
                                              get_bool(config, "cleanup", true));
  }
  if (type == "BPEDecoder") {
    return std::make_unique<BpeSuffixDecoder>(get_string(config, "suffix", "</w>"));
  }
  unsupported("decoder", type, where);
}

}  // namespace mechscope
