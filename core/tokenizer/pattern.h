#pragma once
/// Split and replace patterns of HF tokenizers: a literal string or a regular expression. Regexes
/// are compiled with PCRE2 in UTF + UCP mode so that \p{L}, \p{N}, \s and look-ahead behave like
/// the Oniguruma / Rust regexes HF uses.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/normalized_string.h"

namespace mechscope {

/// The characters of Rust regex's \w (Alphabetic, marks, decimal digits, connector punctuation,
/// joiners), for use inside a PCRE2 character class. PCRE2's Unicode \w lacks the marks and
/// joiners, which matters for decomposed accents, Indic scripts and emoji ZWJ sequences.
#define MECHSCOPE_RUST_WORD_CLASS R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D})"

class Pattern {
 public:
  /// A literal string pattern.
  static Pattern literal(std::string text);
  /// A regular expression. Throws mechscope::Error naming `where` when it does not compile.
  static Pattern regex(const std::string& expression, const std::string& where);

  /// The non-overlapping, non-empty matches in `text`, left to right, as byte ranges.
  std::vector<ByteRange> find_all(std::string_view text) const;

 private:
  struct Compiled;
  std::string literal_;
  std::shared_ptr<const Compiled> regex_;  // Shared: compiled code is immutable and thread-safe.
};

}  // namespace mechscope
