#pragma once
/// Tokenizers from GGUF metadata (llama.cpp's `tokenizer.ggml.*` keys):
/// - `tokenizer.ggml.model` = "llama": a SentencePiece vocabulary (pieces, `scores`, `token_type`)
///   encoded by SpmTokenizer, as llama.cpp's SPM tokenizer does (dummy prefix, score merges, byte
///   fallback to <0xNN> tokens);
/// - "gpt2": byte-level BPE (`merges`), whose split regexes follow `tokenizer.ggml.pre` as in
///   llama.cpp's llama-vocab.cpp. It is built as the equivalent HF tokenizer.json and run by
///   HfTokenizer.
/// In both, control, unknown and user-defined tokens written in the text are recognised.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace mechscope {

namespace gguf {
class File;
}

/// What the tokenizer metadata says besides the vocabulary, for model info panels and chat use.
struct GgufTokenizerInfo {
  std::string model;  ///< `tokenizer.ggml.model`: "llama" or "gpt2".
  std::string pre;    ///< `tokenizer.ggml.pre` as written ("" when absent).
  /// The llama.cpp pre-tokenizer whose regexes are used ("gpt2", "llama3", "qwen2", "starcoder",
  /// "default", …; "" for "llama" models, which have none).
  std::string pre_regexes;
  std::string chat_template;  ///< `tokenizer.chat_template` ("" when absent).
  int64_t vocab_size = 0;
  std::optional<int64_t> bos_id, eos_id, unk_id, pad_id;
  bool add_bos = false;           ///< `tokenizer.ggml.add_bos_token` or llama.cpp's default.
  bool add_eos = false;           ///< `tokenizer.ggml.add_eos_token` (default false).
  bool add_space_prefix = false;  ///< `tokenizer.ggml.add_space_prefix` (llama models only).
  /// Things the loader tolerated, e.g. an unknown pre-tokenizer replaced by llama.cpp's default.
  std::vector<std::string> warnings;
};

/// Reads and checks the tokenizer metadata of `file` (not the merges). Throws mechscope::Error
/// naming the file when keys are missing, of the wrong type or inconsistent (special ids outside
/// the vocabulary, an unsupported tokenizer model).
GgufTokenizerInfo read_gguf_tokenizer_info(const gguf::File& file);

/// Builds the tokenizer described by the metadata of `file`. Throws mechscope::Error naming the
/// file when the metadata is missing or inconsistent (token count ≠ scores or token-type count,
/// unknown token types, merges naming tokens that are not in the vocabulary, duplicate BPE tokens,
/// special ids out of range).
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const gguf::File& file);

}  // namespace mechscope
