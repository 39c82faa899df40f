#pragma once
// Autosave and crash recovery. While the session has unsaved changes, a copy is written every
// few minutes (in the background) into the recovery folder, under this instance's id, next to a
// lock file the running instance holds. A clean exit, a save or a discard removes the copy; a
// crash (or kill -9) leaves it with a stale lock, and the next start offers it back (pending()).
#include <QDateTime>
#include <QObject>
#include <QString>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "app/gui/session_controller.h"

class QLockFile;
class QTimer;

namespace mechscope {

class SessionRecovery : public QObject {
  Q_OBJECT

 public:
  /// A recovery copy left by an instance that did not exit cleanly.
  struct Pending {
    QString file;      ///< the autosaved .mscope
    QString original;  ///< the session file it belonged to (empty for an untitled session)
    QDateTime saved;   ///< when it was autosaved
    int results = 0;
  };

  explicit SessionRecovery(QObject* parent = nullptr);
  ~SessionRecovery() override;  // a clean exit: this instance's copy is removed

  /// <AppDataLocation>/recovery (~/.local/share/mechscope/recovery).
  static QString defaultDirectory();
  QString directory() const { return dir_; }
  /// Moves this instance's recovery files to `dir` (created when missing).
  void setDirectory(const QString& dir);
  /// Every `MECHSCOPE_AUTOSAVE_SECONDS` seconds when set, else every 2 minutes.
  static std::chrono::milliseconds defaultInterval();

  /// What to save and whether it changed: `snapshot` makes the session as it would be saved,
  /// `original` names its file; `changes` counts edits (a new count means unsaved changes).
  void watch(std::function<SessionSnapshot()> snapshot, std::function<QString()> original,
             std::function<quint64()> changes);
  /// Starts autosaving every `interval`.
  void start(std::chrono::milliseconds interval = defaultInterval());
  /// Writes the copy now when there are changes since the last one (in the background).
  void autosave();
  /// There is nothing unsaved any more (saved, discarded, or a new session): removes the copy.
  void clear();
  /// The copy this instance writes.
  QString file() const;

  /// Copies left by instances that are no longer running, newest first.
  std::vector<Pending> pending() const;
  /// Deletes a pending copy.
  static void discard(const Pending& pending);

 signals:
  void autosaved(const QString& file);
  void failed(const QString& message);

 private:
  QString path(const QString& id, const char* suffix) const;
  void lock();

  QString dir_;
  QString id_;
  std::unique_ptr<QLockFile> lock_;
  QTimer* timer_;
  std::function<SessionSnapshot()> snapshot_;
  std::function<QString()> original_;
  std::function<quint64()> changes_;
  quint64 saved_ = 0;  // the change count of the last copy
  bool writing_ = false;
};

}  // namespace mechscope
