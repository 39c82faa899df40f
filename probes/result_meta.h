#pragma once
/// What every probe's Result carries besides its arrays: the common metadata (model identity,
/// inputs, mechscope version, time) and the usual axis labels. Probes call these so that all
/// Results describe themselves the same way.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mechscope {
class Model;
}

namespace mechscope::probes {

/// {"name", "path", "family", "hash"}: enough to find and recognise the model again. `path` is
/// absolute; `name` is the file stem or folder name; `hash` is file_fingerprint(path) when the
/// path exists, else "".
nlohmann::json model_identity(const Model& model);

/// {"probe", "options", "model": model_identity, "inputs", "mechscope_version", "created"}.
nlohmann::json result_meta(const Model& model, const std::string& probe,
                           const nlohmann::json& options, const nlohmann::json& inputs);

/// A Result title: "<what> — <prompt>", the prompt cut to `max_chars` characters with "…".
std::string result_title(const std::string& what, const std::string& prompt, size_t max_chars = 48);

/// "<prefix>0" … "<prefix>{n-1}" ("L0", "H3"): labels of layer and head axes.
std::vector<std::string> index_labels(const std::string& prefix, int64_t n);

/// Each token decoded alone, as token chips show it (Tokenizer::token_text: " Mary", "<s>" for
/// BOS), made valid UTF-8 (a lone byte-fallback token becomes U+FFFD); the id as text when the
/// model has no tokenizer.
std::vector<std::string> token_labels(const Model& model, const std::vector<int64_t>& tokens);

}  // namespace mechscope::probes
