#pragma once
/// A piece of text being normalized and pre-tokenized, that remembers for every byte which bytes
/// of the original input it came from (like HF tokenizers' NormalizedString), so that token offsets
/// can be reported in the original string.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mechscope {

/// A byte range [first, second) of the original input.
using ByteRange = std::pair<size_t, size_t>;

class NormalizedString {
 public:
  NormalizedString() = default;
  /// The bytes [begin, end) of `original`. Invalid UTF-8 is replaced by U+FFFD (aligned to the bad
  /// bytes) so every later stage sees valid UTF-8.
  NormalizedString(std::string_view original, size_t begin, size_t end);

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  size_t size() const { return text_.size(); }
  /// The original range of byte i of text().
  const ByteRange& alignment(size_t i) const { return alignments_[i]; }

  /// The original range covered by the bytes [begin, end) of text(); an empty range at the
  /// position of the neighbouring byte when begin == end.
  ByteRange original_range(size_t begin, size_t end) const;
  ByteRange original_range() const { return original_range(0, text_.size()); }

  /// The sub-piece made of the bytes [begin, end) of text() (character boundaries).
  NormalizedString slice(size_t begin, size_t end) const;

  /// Appends `bytes`, all aligned to `range`.
  void append(std::string_view bytes, const ByteRange& range);

  /// Rewrites every character: `fn(char_bytes, code_point, out)` appends the replacement to
  /// `out`; each byte of the replacement is aligned to the original character's range.
  void map_chars(const std::function<void(std::string_view, char32_t, std::string&)>& fn);
  /// Inserts `prefix` at the start, aligned to the first character (as HF's prepend does). No-op
  /// on an empty string.
  void prepend(std::string_view prefix);
  /// Replaces every non-overlapping match range [first, second) with `content`; the replacement is
  /// aligned to the matched range.
  void replace_ranges(const std::vector<ByteRange>& matches, std::string_view content);
  /// Keeps only the bytes [begin, end).
  void trim(size_t begin, size_t end);

 private:
  std::string text_;
  std::vector<ByteRange> alignments_;  // One per byte of text_.
};

}  // namespace mechscope
