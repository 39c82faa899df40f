#include "probes/result_meta.h"

#include <filesystem>

#include "core/model/model.h"
#include "core/session/fingerprint.h"
#include "core/session/result.h"
#include "core/tokenizer/unicode.h"

namespace mechscope::probes {

nlohmann::json model_identity(const Model& model) {
  namespace fs = std::filesystem;
  const std::string& source = model.source().path;
  fs::path path = source.empty() ? fs::path() : fs::absolute(source).lexically_normal();
  if (!path.empty() && path.filename().empty()) path = path.parent_path();  // "dir/" → "dir"
  std::error_code ec;
  const bool exists = !path.empty() && fs::exists(path, ec);
  std::string name = path.empty()
                         ? model.config().architecture
                         : (fs::is_directory(path, ec) ? path.filename() : path.stem()).string();
  return {{"name", name},
          {"path", path.string()},
          {"family", model.config().family},
          {"hash", exists ? cached_file_fingerprint(path) : std::string()},
          {"processing", model.processing()}};
}

nlohmann::json result_meta(const Model& model, const std::string& probe,
                           const nlohmann::json& options, const nlohmann::json& inputs) {
  nlohmann::json meta = {{"probe", probe},
                         {"options", options},
                         {"model", model_identity(model)},
                         {"inputs", inputs},
                         {"mechscope_version", MECHSCOPE_VERSION},
                         {"created", iso_time_now()}};
  // An SAE spliced in or a steering vector: the Result was computed on the edited model.
  if (!model.standing_description().empty())
    meta["standing_hooks"] = nlohmann::json::parse(model.standing_description(), nullptr, false);
  return meta;
}

std::string result_title(const std::string& what, const std::string& prompt, size_t max_chars) {
  if (prompt.empty()) return what;
  std::string text = unicode::sanitize_utf8(prompt);
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';  // titles are one line
  size_t pos = 0, chars = 0;
  while (pos < text.size() && chars < max_chars) {
    pos += unicode::next_char(text, pos).length;
    ++chars;
  }
  return what + " — " + text.substr(0, pos) + (pos < text.size() ? "…" : "");
}

std::vector<std::string> index_labels(const std::string& prefix, int64_t n) {
  std::vector<std::string> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(prefix + std::to_string(i));
  return labels;
}

std::vector<std::string> token_labels(const Model& model, const std::vector<int64_t>& tokens) {
  std::vector<std::string> labels;
  const Tokenizer* tokenizer = model.tokenizer();
  for (int64_t id : tokens) {
    std::string label = std::to_string(id);
    // A model's d_vocab may exceed its tokenizer's vocabulary (padding): such ids keep the number.
    if (tokenizer != nullptr && id >= 0 && id < tokenizer->vocab_size())
      label = unicode::sanitize_utf8(tokenizer->token_text(id));
    labels.push_back(std::move(label));
  }
  return labels;
}

}  // namespace mechscope::probes
