#include "core/tokenizer/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace mechscope {

struct Pattern::Compiled {
  pcre2_code* code = nullptr;
  ~Compiled() { pcre2_code_free(code); }
};

Pattern Pattern::literal(std::string text) {
  Pattern p;
  p.literal_ = std::move(text);
  return p;
}

Pattern Pattern::regex(const std::string& expression, const std::string& where) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(expression.data()), expression.size(),
      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    throw Error("The tokenizer file " + where + " contains the regular expression '" + expression +
                "', which cannot be compiled: " + reinterpret_cast<const char*>(message) +
                " (at offset " + std::to_string(error_offset) + ").");
  }
  // JIT makes pre-tokenization several times faster; without it the interpreter still works.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto compiled = std::make_shared<Compiled>();
  compiled->code = code;
  Pattern p;
  p.regex_ = std::move(compiled);
  return p;
}

std::vector<ByteRange> Pattern::find_all(std::string_view text) const {
  std::vector<ByteRange> matches;
  if (!regex_) {
    if (literal_.empty()) return matches;
    for (size_t pos = text.find(literal_); pos != std::string_view::npos;
         pos = text.find(literal_, pos + literal_.size())) {
      matches.emplace_back(pos, pos + literal_.size());
    }
    return matches;
  }
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(regex_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    const int rc = pcre2_match(regex_->code, subject, text.size(), pos, 0, data, nullptr);
    if (rc < 0) break;  // No match (or a matching error, treated as no further matches).
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      matches.emplace_back(begin, end);
      pos = end;
    } else {
      // Empty match: step over one character to make progress.
      if (begin >= text.size()) break;
      pos = begin + unicode::next_char(text, begin).length;
    }
  }
  pcre2_match_data_free(data);
  return matches;
}

}  // namespace mechscope
