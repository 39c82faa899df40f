#pragma once
// File work of the workbench (opening and saving sessions, exporting figures) off the GUI thread:
// the work runs on a pool thread while the GUI thread keeps processing events, so the window
// repaints and Cancel works; run() returns when the work is done, which keeps the callers' code
// straight-line. Progress goes out as progress(); cancel() makes the work's progress callback
// return false, and the work then stops by throwing mechscope::Cancelled.
#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <memory>

#include "core/session/session.h"

namespace mechscope {

class FileJob : public QObject {
  Q_OBJECT

 public:
  explicit FileJob(QObject* parent = nullptr);
  ~FileJob() override;  // cancels and waits for work still running

  using Work = std::function<void(const SessionProgress& progress)>;
  /// Runs `work` on a pool thread and processes events until it is done. Rethrows what the work
  /// threw (mechscope::Cancelled after cancel()). One job at a time: throws mechscope::Error
  /// when another is running (the window disables file actions meanwhile).
  void run(const QString& label, const Work& work);
  bool running() const { return running_; }
  /// Asks the running work to stop (it stops at its next progress report).
  void cancel();
  /// Runs `f` on the GUI thread and waits for it (from the work; widgets live there).
  static void onGuiThread(const std::function<void()>& f);

 signals:
  void started(const QString& label);
  /// Fraction done (0…1), from the GUI thread.
  void progress(double fraction);
  void finished();

 private:
  bool running_ = false;
  std::shared_ptr<std::atomic<bool>> cancel_;
};

}  // namespace mechscope
