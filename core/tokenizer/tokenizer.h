#pragma once
/// The tokenizer interface shared by every tokenizer format (HF tokenizer.json, llama2.c
/// tokenizer.bin, GGUF metadata). Free of LibTorch so that views and tools can use it cheaply.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mechscope {

/// The result of encoding a string: token ids, and for each token the byte range [begin, end)
/// of the input string it came from (special tokens added by the tokenizer itself, such as BOS,
/// get an empty range at 0).
struct Encoding {
  std::vector<int64_t> ids;
  std::vector<std::pair<size_t, size_t>> offsets;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// Encodes UTF-8 text. `add_special_tokens` adds what the tokenizer's post-processor /
  /// configuration says (e.g. BOS for Llama); special tokens written in the text are recognised.
  virtual Encoding encode(const std::string& text, bool add_special_tokens = true) const = 0;
  /// Decodes ids to UTF-8 text (invalid byte sequences become U+FFFD).
  virtual std::string decode(const std::vector<int64_t>& ids,
                             bool skip_special_tokens = false) const = 0;
  /// The readable text of one token as it would appear in the output (for token chips and axis
  /// labels): decoded bytes, e.g. " the" for GPT-2's "Ġthe".
  virtual std::string token_text(int64_t id) const = 0;
  /// The raw vocabulary string of a token (e.g. "Ġthe", "▁the", "<0x0A>").
  virtual std::string token_string(int64_t id) const = 0;
  virtual std::optional<int64_t> token_to_id(const std::string& token) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> bos_id() const = 0;
  virtual std::optional<int64_t> eos_id() const = 0;
};

/// Loads a Hugging Face `tokenizer.json`. When `tokenizer_config` (tokenizer_config.json) exists,
/// it supplies BOS/EOS and `add_bos_token`. Throws mechscope::Error naming the file on bad input.
std::unique_ptr<Tokenizer> load_hf_tokenizer(
    const std::filesystem::path& tokenizer_json,
    const std::optional<std::filesystem::path>& tokenizer_config = std::nullopt);

/// Loads a llama2.c `tokenizer.bin` (SentencePiece BPE scores, byte fallback, BOS=1, EOS=2).
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::filesystem::path& path,
                                                  int64_t vocab_size);

/// Picks the loader from the file name (tokenizer.json / *.bin / *.gguf; see gguf_tokenizer.h).
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path,
                                          int64_t vocab_size_hint = -1);

}  // namespace mechscope
