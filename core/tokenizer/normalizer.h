#pragma once
/// Normalizers of HF tokenizer.json ("normalizer"): NFC, NFD, Lowercase, Strip, StripAccents,
/// Replace, Prepend, BertNormalizer and Sequence. They rewrite a NormalizedString in place and
/// keep its alignment to the original input.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/tokenizer/normalized_string.h"

namespace mechscope {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(NormalizedString& text) const = 0;
};

/// Builds the normalizer described by `config` (nullptr for JSON null). `where` names the file in
/// errors (unknown types throw mechscope::Error).
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& config, const std::string& where);

}  // namespace mechscope
