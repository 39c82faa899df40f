#pragma once
/// Pre-tokenizers of HF tokenizer.json ("pre_tokenizer"): ByteLevel, Split, Metaspace, Whitespace,
/// WhitespaceSplit, Punctuation, Digits, BertPreTokenizer and Sequence. They cut normalized text
/// into the pieces ("words") that the model tokenizes independently.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/normalized_string.h"
#include "core/tokenizer/pattern.h"

namespace mechscope {

/// How a split keeps the matched delimiters (HF's SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

/// Cuts `piece` at `matches` (byte ranges of its text). With `invert`, the matches are the parts
/// to keep and what lies between them are the delimiters. Empty parts are dropped.
std::vector<NormalizedString> split_piece(const NormalizedString& piece,
                                          const std::vector<ByteRange>& matches,
                                          SplitBehavior behavior, bool invert = false);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  /// Splits (and possibly rewrites) every piece of `pieces` in place.
  virtual void pre_tokenize(std::vector<NormalizedString>& pieces) const = 0;
};

/// GPT-2's pre-tokenization regex.
extern const char* const kGpt2SplitRegex;

/// Builds the pre-tokenizer described by `config` (nullptr for JSON null).
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& config,
                                                 const std::string& where);

}  // namespace mechscope
