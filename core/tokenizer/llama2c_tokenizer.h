#pragma once
/// SentencePiece-score tokenizers: llama2.c's tokenizer.bin and GGUF `llama` vocabularies.
/// Encoding follows llama2.c's encode() and llama.cpp's SPM tokenizer (the same algorithm): an
/// optional BOS, a dummy space prefix, one symbol per UTF-8 character, then repeatedly the adjacent
/// pair whose concatenation is the highest-scoring token is merged; symbols that are not tokens
/// fall back to byte tokens (<0xNN>).
///
/// The llama2.c tokenizer.bin format: int32 max_token_length, then per token float32 score, int32
/// byte length and the bytes. Its pieces spell a space as " ", GGUF/SentencePiece ones as "▁".
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/tokenizer.h"

namespace mechscope {

/// Token types, numbered as GGUF's `tokenizer.ggml.token_type` (llama.cpp's LLAMA_TOKEN_TYPE_*).
enum class SpmTokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

/// Everything an SpmTokenizer needs. `pieces`, `scores` and `types` have one entry per token.
struct SpmVocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;
  std::vector<SpmTokenType> types;
  /// How a space is written inside pieces: " " (llama2.c) or "▁" (SentencePiece, GGUF).
  std::string space = " ";
  /// Prepend a space to the text, and after each special token found in it (SentencePiece's
  /// dummy prefix); decode drops it again.
  bool add_space_prefix = true;
  /// Recognise control, unknown and user-defined tokens written in the text (llama.cpp's
  /// parse_special). llama2.c treats "<s>" as ordinary text.
  bool match_special = false;
  std::optional<int64_t> bos, eos, unk;
  bool add_bos = true;
  bool add_eos = false;
};

class SpmTokenizer : public Tokenizer {
 public:
  /// `vocab`'s arrays must have one entry per token and its ids must be in range (the loaders
  /// check both).
  explicit SpmTokenizer(SpmVocab vocab);
  SpmTokenizer(const SpmTokenizer&) = delete;  // The matcher points into specials_.
  SpmTokenizer& operator=(const SpmTokenizer&) = delete;

  /// Adds BOS/EOS as configured when `add_special_tokens`.
  Encoding encode(const std::string& text, bool add_special_tokens = true) const override;
  /// Drops the dummy prefix again: the leading space of the first text token at the start or after
  /// a token that started a new fragment when encoding (BOS, a special token found in the text).
  /// <0xNN> tokens become raw bytes.
  std::string decode(const std::vector<int64_t>& ids,
                     bool skip_special_tokens = false) const override;
  std::string token_text(int64_t id) const override;
  std::string token_string(int64_t id) const override;
  std::optional<int64_t> token_to_id(const std::string& token) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.pieces.size()); }
  std::optional<int64_t> bos_id() const override { return vocab_.bos; }
  std::optional<int64_t> eos_id() const override { return vocab_.eos; }

 private:
  // Tokenizes the bytes [begin, end) of `text` (which hold no special token), with the dummy
  // prefix when `prefix`.
  void encode_fragment(const std::string& text, size_t begin, size_t end, bool prefix,
                       Encoding& out) const;
  // The bytes a token stands for (a <0xNN> token's byte, a control token's trimmed name, a normal
  // token's piece with spaces unescaped).
  std::string piece_bytes(int64_t id) const;
  bool is_special(int64_t id) const;  // control or unknown
  std::optional<int64_t> lookup(const std::string& piece) const;

  SpmVocab vocab_;
  std::unordered_map<std::string, int64_t> ids_;
  std::array<int64_t, 256> byte_ids_;  // Id of each byte's <0xNN> token, or -1.
  std::unordered_map<std::string, int64_t> special_names_;  // Trimmed control-token names.
  std::vector<AddedToken> specials_;  // Tokens matched in the text (match_special).
  AddedTokenMatcher special_matcher_;
};

}  // namespace mechscope
