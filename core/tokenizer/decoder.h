#pragma once
/// Decoders of HF tokenizer.json ("decoder"): ByteLevel, Metaspace, Replace, ByteFallback, Fuse,
/// Strip, WordPiece, BPEDecoder and Sequence. Like HF's decode_chain, they rewrite the list of
/// token strings step by step; the caller joins the result.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mechscope {

class Decoder {
 public:
  virtual ~Decoder() = default;
  /// Rewrites `tokens` in place. `whole_text` is false when decoding a single token for display,
  /// which keeps the leading space that decoding a whole text strips (e.g. "▁the" -> " the").
  virtual void decode_chain(std::vector<std::string>& tokens, bool whole_text) const = 0;
};

/// Builds the decoder described by `config` (nullptr for JSON null).
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& config, const std::string& where);

/// Turns consecutive <0xNN> tokens into their bytes; an invalid UTF-8 group becomes one U+FFFD per
/// byte (HF's ByteFallback decoder).
void fuse_byte_tokens(std::vector<std::string>& tokens);

}  // namespace mechscope
