#pragma once
/// GPT-2's reversible byte <-> printable-character map: byte-level BPE vocabularies spell every
/// byte as a printable Unicode character (the space 0x20 becomes "Ġ", U+0120).
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace mechscope::byte_level {

/// The UTF-8 encoding of the character that stands for `byte`.
const std::string& byte_to_chars(unsigned char byte);
/// The byte that character `cp` stands for, if it is one of the 256 characters of the map.
std::optional<unsigned char> char_to_byte(char32_t cp);
/// Maps every byte of `bytes` to its character.
std::string encode(std::string_view bytes);
/// Maps the characters of `token` back to bytes. Like HF's ByteLevel decoder, a token containing a
/// character outside the map (e.g. an added token) is returned unchanged.
std::string decode(std::string_view token);

}  // namespace mechscope::byte_level
