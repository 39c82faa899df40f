#include "core/tokenizer/normalized_string.h"

#include <algorithm>

#include "core/tokenizer/unicode.h"

namespace mechscope {

NormalizedString::NormalizedString(std::string_view original, size_t begin, size_t end) {
  text_.reserve(end - begin);
  alignments_.reserve(end - begin);
  for (size_t pos = begin; pos < end;) {
    unicode::Utf8Char c = unicode::next_char(original.substr(0, end), pos);
    const ByteRange range{pos, pos + c.length};
    if (c.valid) {
      append(original.substr(pos, c.length), range);
    } else {
      append(unicode::to_utf8(0xFFFD), range);
    }
    pos += c.length;
  }
}

ByteRange NormalizedString::original_range(size_t begin, size_t end) const {
  if (alignments_.empty()) return {0, 0};
  if (begin >= end) {
    if (begin < alignments_.size()) return {alignments_[begin].first, alignments_[begin].first};
    return {alignments_.back().second, alignments_.back().second};
  }
  ByteRange r = alignments_[begin];
  for (size_t i = begin + 1; i < end; ++i) {
    r.first = std::min(r.first, alignments_[i].first);
    r.second = std::max(r.second, alignments_[i].second);
  }
  return r;
}

NormalizedString NormalizedString::slice(size_t begin, size_t end) const {
  NormalizedString out;
  out.text_ = text_.substr(begin, end - begin);
  out.alignments_.assign(alignments_.begin() + begin, alignments_.begin() + end);
  return out;
}

void NormalizedString::append(std::string_view bytes, const ByteRange& range) {
  text_.append(bytes);
  alignments_.insert(alignments_.end(), bytes.size(), range);
}

void NormalizedString::map_chars(
    const std::function<void(std::string_view, char32_t, std::string&)>& fn) {
  NormalizedString out;
  out.text_.reserve(text_.size());
  out.alignments_.reserve(text_.size());
  std::string replacement;
  for (size_t pos = 0; pos < text_.size();) {
    const unicode::Utf8Char c = unicode::next_char(text_, pos);
    replacement.clear();
    fn(std::string_view(text_).substr(pos, c.length), c.code_point, replacement);
    out.append(replacement, original_range(pos, pos + c.length));
    pos += c.length;
  }
  *this = std::move(out);
}

void NormalizedString::prepend(std::string_view prefix) {
  if (text_.empty()) return;
  const unicode::Utf8Char first = unicode::next_char(text_, 0);
  const ByteRange range = original_range(0, first.length);
  text_.insert(0, prefix);
  alignments_.insert(alignments_.begin(), prefix.size(), range);
}

void NormalizedString::replace_ranges(const std::vector<ByteRange>& matches,
                                      std::string_view content) {
  if (matches.empty()) return;
  NormalizedString out;
  size_t pos = 0;
  for (const auto& [begin, end] : matches) {
    out.text_.append(text_, pos, begin - pos);
    out.alignments_.insert(out.alignments_.end(), alignments_.begin() + pos,
                           alignments_.begin() + begin);
    out.append(content, original_range(begin, end));
    pos = end;
  }
  out.text_.append(text_, pos, std::string::npos);
  out.alignments_.insert(out.alignments_.end(), alignments_.begin() + pos, alignments_.end());
  *this = std::move(out);
}

void NormalizedString::trim(size_t begin, size_t end) { *this = slice(begin, end); }

}  // namespace mechscope
