#pragma once
// The workbench's session: the Results, prompts and model reference it holds, the `.mscope` file
// it came from, whether it has unsaved changes, and the Save / Discard / Cancel question asked
// before those changes would be lost. The window's view state is asked for when saving (see
// setViewsProvider), so the views stay the only place it lives while the session is open.
#include <QMessageBox>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/session/session.h"

class QWidget;

namespace mechscope {

class FileJob;

/// The session as it would be saved, taken on the GUI thread without copying the Results: they
/// are immutable and shared, so take() may copy them in on any thread (a big session's copy
/// would otherwise stall the window).
struct SessionSnapshot {
  Session rest;  ///< everything but the Results
  std::vector<std::shared_ptr<const Result>> results;
  Session take() const;
};

class SessionController : public QObject {
  Q_OBJECT

 public:
  explicit SessionController(QObject* parent = nullptr);

  /// Results in creation order.
  const std::vector<std::shared_ptr<const Result>>& results() const { return results_; }
  std::shared_ptr<const Result> find(const QString& id) const;
  const std::vector<SessionPrompt>& prompts() const { return prompts_; }
  /// {"path", "name", "family", "hash"(, "tokenizer")} of the model the session works with.
  const nlohmann::json& model() const { return model_; }
  void setModel(const nlohmann::json& model) { model_ = model; }

  /// Gives `result` a fresh id (Session::next_id of its probe), stores it and marks the session
  /// changed. Returns the stored Result.
  std::shared_ptr<const Result> addResult(Result result);
  /// Removes a Result; returns false when there is none with that id.
  bool removeResult(const QString& id);
  /// Remembers a prompt the session worked with (once; changes nothing when already known).
  void addPrompt(const SessionPrompt& prompt);

  /// The file the session was opened from or last saved to; empty for a new session.
  QString path() const { return path_; }
  /// "name.mscope", or "untitled".
  QString displayName() const;
  bool isDirty() const { return dirty_; }
  /// 0 when there are no unsaved changes; otherwise a number that grows with every change (what
  /// autosave compares to know whether its copy is current).
  quint64 unsavedChanges() const { return dirty_ ? changes_ : 0; }
  /// Marks unsaved changes. A new session with no Results has nothing worth saving yet, so edits
  /// to it (typing a prompt) do not count.
  void markDirty();

  /// Supplies Session::views when saving: {"workbench": {...}, "results": {"<id>": {...}}}.
  void setViewsProvider(std::function<nlohmann::json()> provider) { views_ = std::move(provider); }
  /// The whole session as it would be saved now (the Results shared, not copied).
  SessionSnapshot snapshot() const;

  /// Forgets everything: a new, empty, clean session without a file.
  void reset();
  /// Reads a session file. Throws mechscope::Error naming the file and the problem.
  static Session read(const QString& path, const SessionProgress& progress = {});
  /// Saves run as `job` (off the GUI thread, with progress and cancel); none: on the caller's.
  void setFileJob(FileJob* job) { job_ = job; }
  /// Replaces the session with `session`, read from `path` (clean). Returns its view state.
  nlohmann::json adopt(Session session, const QString& path);
  /// Replaces the session with a recovered copy: it belongs to `original` (empty: untitled) and
  /// has unsaved changes. Returns its view state.
  nlohmann::json adoptRecovered(Session session, const QString& original);
  /// read() then adopt(); on an error the session is unchanged.
  nlohmann::json open(const QString& path) { return adopt(read(path), path); }
  /// Saves to path() (atomically); false and failed() when that fails or there is no path, false
  /// alone when the save was cancelled.
  bool save();
  /// Saves to `path` (".mscope" added when it has no suffix) and makes it the session's file.
  bool saveAs(QString path);

  /// Before changes would be lost: true to go on (clean, saved, or discarded), false to stop.
  /// Asks Save / Discard / Cancel (Save without a file asks for one) unless an answer was set.
  bool maybeSave(QWidget* parent);
  /// Answers the unsaved-changes question without showing it (QMessageBox::Save, Discard or
  /// Cancel); QMessageBox::NoButton shows the dialog again. For tests and scripted runs.
  void setUnsavedChangesAnswer(QMessageBox::StandardButton answer) { autoAnswer_ = answer; }
  /// Asks where to save (a file dialog by default); an empty answer cancels.
  QString askSavePath(QWidget* parent) const;
  void setSavePathProvider(std::function<QString(QWidget*)> provider) {
    savePath_ = std::move(provider);
  }

 signals:
  void dirtyChanged(bool dirty);
  void pathChanged(const QString& path);
  /// The unsaved-changes question was asked (or answered automatically).
  void unsavedChangesAsked();
  void failed(const QString& title, const QString& message);

 private:
  void setDirty(bool dirty);
  void setPath(const QString& path);

  nlohmann::json model_ = nlohmann::json::object();
  std::vector<SessionPrompt> prompts_;
  std::vector<std::shared_ptr<const Result>> results_;
  nlohmann::json otherViews_ = nlohmann::json::object();  // view keys this build does not use
  std::function<nlohmann::json()> views_;
  std::function<QString(QWidget*)> savePath_;
  QString path_;
  FileJob* job_ = nullptr;
  bool dirty_ = false;
  quint64 changes_ = 0;
  QMessageBox::StandardButton autoAnswer_ = QMessageBox::NoButton;
};

}  // namespace mechscope
