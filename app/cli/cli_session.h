#pragma once
// What the probe commands (attention, plugin, later probes) share: the session file they add a
// Result to (`--out`, `--append`), created or read before the model runs, saved atomically.
#include <filesystem>
#include <string>

#include "app/cli/args.h"
#include "core/model/model.h"
#include "core/session/session.h"

namespace mechscope::cli {

class ProbeSessionFile {
 public:
  /// Reads `--out` when `--append` is given and the file exists (so a bad file fails before any
  /// model runs); otherwise the session starts empty.
  explicit ProbeSessionFile(const Args& args);
  /// Refers a new session to `model` (and `--tokenizer`, needed to reopen a llama2.c model);
  /// an appended session keeps its model reference.
  void set_model(const Model& model, const Args& args);
  /// Gives `result` a fresh id, records `prompt` among the session's prompts, saves the file
  /// atomically and returns the id.
  std::string add(Result result, const std::string& prompt);

  bool appending() const { return append_; }
  const std::filesystem::path& path() const { return out_; }
  const Session& session() const { return session_; }

 private:
  std::filesystem::path out_;
  bool append_ = false;
  Session session_;
};

}  // namespace mechscope::cli
