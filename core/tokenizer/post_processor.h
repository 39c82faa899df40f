#pragma once
/// Post-processors of HF tokenizer.json ("post_processor"): TemplateProcessing, BertProcessing,
/// RobertaProcessing, ByteLevel (offset trimming) and Sequence. They add BOS/EOS-style special
/// tokens around a single sequence (pairs are not needed by mechscope).
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/normalized_string.h"

namespace mechscope {

/// The encoding of a text while it is post-processed.
struct TokenSequence {
  std::vector<int64_t> ids;
  std::vector<ByteRange> offsets;
  std::vector<bool> added;  ///< True for tokens a post-processor inserted (BOS, EOS, CLS...).
};

/// Returns the vocabulary string of an id (empty when unknown).
using TokenLookup = std::function<std::string(int64_t)>;

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  /// Adds special tokens when `add_special_tokens`; offset adjustments apply either way.
  virtual void process(TokenSequence& sequence, bool add_special_tokens,
                       const TokenLookup& lookup) const = 0;
};

/// Builds the post-processor described by `config` (nullptr for JSON null).
std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& config,
                                                   const std::string& where);

}  // namespace mechscope
