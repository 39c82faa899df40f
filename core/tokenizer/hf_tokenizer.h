#pragma once
/// The Hugging Face tokenizer.json pipeline: added tokens -> normalizer -> pre-tokenizer -> model
/// -> post-processor, and the decoder chain for the way back.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/decoder.h"
#include "core/tokenizer/model.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/post_processor.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"

namespace mechscope {

class HfTokenizer : public Tokenizer {
 public:
  /// `tokenizer` is the parsed tokenizer.json; `config` the parsed tokenizer_config.json (or
  /// null). `where` names the file in error messages.
  HfTokenizer(const nlohmann::json& tokenizer, const nlohmann::json& config,
              const std::string& where);

  Encoding encode(const std::string& text, bool add_special_tokens = true) const override;
  std::string decode(const std::vector<int64_t>& ids,
                     bool skip_special_tokens = false) const override;
  std::string token_text(int64_t id) const override;
  std::string token_string(int64_t id) const override;
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  int64_t vocab_size() const override { return vocab_size_; }
  std::optional<int64_t> bos_id() const override { return bos_id_; }
  std::optional<int64_t> eos_id() const override { return eos_id_; }

  /// True when `id` is an added token marked special (skipped by decode(..., true)).
  bool is_special(int64_t id) const;

 private:
  // Normalizes, pre-tokenizes and tokenizes the bytes [begin, end) of `text`, which contain no
  // un-normalized added token.
  void encode_plain(const std::string& text, size_t begin, size_t end, TokenSequence& out) const;
  // Applies tokenizer_config.json's add_bos_token / add_eos_token on top of the post-processor.
  void apply_config_specials(TokenSequence& seq) const;
  const AddedToken* added_token(int64_t id) const;
  std::string decode_tokens(std::vector<std::string> tokens, bool whole_text) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;

  std::vector<AddedToken> added_tokens_;
  std::unordered_map<int64_t, size_t> added_by_id_;
  std::unordered_map<std::string, int64_t> added_by_content_;
  AddedTokenMatcher original_matcher_;    // Added tokens with normalized = false.
  AddedTokenMatcher normalized_matcher_;  // Added tokens with normalized = true.

  std::optional<int64_t> bos_id_, eos_id_;
  std::optional<bool> add_bos_, add_eos_;
  int64_t vocab_size_ = 0;
};

}  // namespace mechscope
