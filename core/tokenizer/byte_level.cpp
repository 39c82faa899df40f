#include "core/tokenizer/byte_level.h"

#include <unordered_map>

#include "core/tokenizer/unicode.h"

namespace mechscope::byte_level {

namespace {

struct ByteMap {
  std::array<std::string, 256> to_chars;
  std::unordered_map<char32_t, unsigned char> to_byte;

  ByteMap() {
    // Printable Latin-1 bytes stand for themselves; the others are shifted to U+0100 onwards.
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable =
          (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      to_chars[b] = unicode::to_utf8(cp);
      to_byte.emplace(cp, static_cast<unsigned char>(b));
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

}  // namespace

const std::string& byte_to_chars(unsigned char byte) { return byte_map().to_chars[byte]; }

std::optional<unsigned char> char_to_byte(char32_t cp) {
  const auto& m = byte_map().to_byte;
  auto it = m.find(cp);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += byte_to_chars(static_cast<unsigned char>(c));
  return out;
}

std::string decode(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    const unicode::Utf8Char c = unicode::next_char(token, pos);
    const auto byte = c.valid ? char_to_byte(c.code_point) : std::nullopt;
    if (!byte) return std::string(token);
    out.push_back(static_cast<char>(*byte));
    pos += c.length;
  }
  return out;
}

}  // namespace mechscope::byte_level
