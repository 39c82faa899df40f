#pragma once
/// UTF-8 and Unicode helpers for the tokenizers. No ICU: the few properties the tokenizers need
/// (white space, canonical normalization, simple lowercasing) are built in.
#include <cstddef>
#include <string>
#include <string_view>

namespace mechscope::unicode {

/// One decoded character of a UTF-8 string.
struct Utf8Char {
  char32_t code_point;  ///< U+FFFD when the bytes are not valid UTF-8.
  size_t length;        ///< Bytes consumed (>= 1); for invalid bytes the maximal invalid subpart.
  bool valid;
};

/// Decodes the character starting at byte `pos` (< s.size()). Invalid sequences are consumed as
/// their maximal invalid subpart, as Rust's from_utf8_lossy and Python's errors="replace" do.
Utf8Char next_char(std::string_view s, size_t pos);

/// Appends the UTF-8 encoding of `cp` to `out`.
void append_utf8(std::string& out, char32_t cp);
std::string to_utf8(char32_t cp);

/// True when `s` is entirely valid UTF-8.
bool is_valid_utf8(std::string_view s);
/// Replaces each maximal invalid subsequence of `s` with U+FFFD.
std::string sanitize_utf8(std::string_view s);

/// Rust's char::is_whitespace (the Unicode White_Space property).
bool is_whitespace(char32_t cp);
/// Simple (one-to-one) lowercasing for ASCII, Latin, Greek, Cyrillic and full-width Latin.
char32_t to_lower(char32_t cp);

/// Canonical combining class (0 for starters).
int combining_class(char32_t cp);
/// True when `cp` may combine with the character before it under NFC (so it cannot start an
/// independently normalizable chunk).
bool composes_with_previous(char32_t cp);

/// Canonical decomposition (NFD) and canonical composition (NFC) of a code point sequence.
std::u32string nfd(std::u32string_view text);
std::u32string nfc(std::u32string_view text);

std::u32string to_u32(std::string_view utf8);
std::string to_utf8(std::u32string_view text);

}  // namespace mechscope::unicode
