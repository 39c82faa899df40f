#pragma once
/// The llama2.c tokenizer.bin format: int32 max_token_length, then per token float32 score,
/// int32 byte length and the bytes. Encoding follows llama2.c's encode(): optional BOS, a dummy
/// " " prefix, one token per UTF-8 character (byte fallback to ids 3..258), then repeatedly the
/// adjacent pair whose concatenation has the highest score is merged.
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace mechscope {

class Llama2cTokenizer : public Tokenizer {
 public:
  static constexpr int64_t kUnkId = 0, kBosId = 1, kEosId = 2, kFirstByteId = 3;

  Llama2cTokenizer(std::vector<std::string> vocab, std::vector<float> scores);

  /// Adds BOS when `add_special_tokens`. Text such as "<s>" is ordinary text here, as in llama2.c.
  Encoding encode(const std::string& text, bool add_special_tokens = true) const override;
  /// Strips the leading space of the first text token (after BOS or at the start), as
  /// SentencePiece and llama2.c do; <0xNN> tokens become raw bytes.
  std::string decode(const std::vector<int64_t>& ids,
                     bool skip_special_tokens = false) const override;
  std::string token_text(int64_t id) const override;
  std::string token_string(int64_t id) const override;
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  std::optional<int64_t> bos_id() const override { return kBosId; }
  std::optional<int64_t> eos_id() const override { return kEosId; }

 private:
  // The bytes a token stands for (a <0xNN> token's byte, a control token's trimmed name).
  std::string piece_bytes(int64_t id) const;
  std::optional<int64_t> lookup(const std::string& piece) const;

  std::vector<std::string> vocab_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace mechscope
