#pragma once
/// A workbench session: the model reference, prompts, every Result and each view's state.
/// Stored as an HDF5 file (`.mscope`); the layout is documented in docs/session-format.md.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/session/result.h"

namespace mechscope {

/// The newest session layout this build reads and the one it writes: 2 adds the checksum block
/// (session_integrity.h); 1 is still read.
constexpr int kSessionFormatVersion = 2;

/// A prompt the session worked with (clean, optional corrupted prompt and answer).
struct SessionPrompt {
  std::string text;
  std::string corrupt;  // empty when none
  std::string answer;   // empty when none
};

struct Session {
  /// {"path", "name", "family", "hash"}: enough to find and recognise the model again; the model
  /// itself is not needed to open the session.
  nlohmann::json model = nlohmann::json::object();
  std::vector<SessionPrompt> prompts;
  std::vector<Result> results;  // in creation order
  /// View state: {"workbench": {...window state: selected result, ...},
  ///              "results": {"<result id>": {...that result's view state: layer, head, zoom,
  ///                                           colour scale, token range...}}}
  nlohmann::json views = nlohmann::json::object();

  /// The result with this id, or nullptr.
  const Result* find(const std::string& id) const;
  /// A fresh id "<probe>-<n>" not used by any result yet.
  std::string next_id(const std::string& probe) const;
};

/// A fresh id "<probe>-<n>" not among `ids` (what Session::next_id uses).
std::string next_result_id(const std::string& probe, const std::vector<std::string>& ids);

/// Progress of a session read or write: called with the fraction done (0…1); returning false
/// cancels (the call then throws mechscope::Cancelled and leaves no partial file behind).
using SessionProgress = std::function<bool(double fraction)>;

/// Writes `session` to `path` atomically: a temporary file beside it is written, flushed and
/// fsynced, then renamed over `path`, so an interrupted save leaves the previous file intact.
/// Throws mechscope::Error naming the file on failure.
void save_session(const Session& session, const std::filesystem::path& path,
                  const SessionProgress& progress = {});

/// Reads a session. Throws mechscope::Error naming the file and the problem when it is missing,
/// not HDF5, not a mechscope session, of a newer format_version, or inconsistent; when its
/// checksum does not match (changed after saving); or when the guarded read in a child process
/// (core/session/checking_process.h) that comes first does not finish in time or crashes.
Session load_session(const std::filesystem::path& path, const SessionProgress& progress = {});

}  // namespace mechscope
