#include "app/gui/file_job.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QFutureWatcher>
#include <QMetaObject>
#include <QPointer>
#include <QThread>
#include <QtConcurrent/QtConcurrentRun>
#include <exception>

#include "core/util/error.h"

namespace mechscope {

FileJob::FileJob(QObject* parent) : QObject(parent) {}

FileJob::~FileJob() {
  if (cancel_) cancel_->store(true);
}

void FileJob::cancel() {
  if (cancel_) cancel_->store(true);
}

void FileJob::onGuiThread(const std::function<void()>& f) {
  QCoreApplication* app = QCoreApplication::instance();
  if (!app || QThread::currentThread() == app->thread()) {
    f();
    return;
  }
  QMetaObject::invokeMethod(app, f, Qt::BlockingQueuedConnection);
}

void FileJob::run(const QString& label, const Work& work) {
  if (running_) throw Error("Another file operation is still running; wait for it or cancel it.");
  running_ = true;
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  cancel_ = cancel;
  emit started(label);

  // The work reports through a queued call; progress() is emitted on the GUI thread.
  QPointer<FileJob> self(this);
  const SessionProgress report = [self, cancel](double fraction) {
    if (!cancel->load())
      QMetaObject::invokeMethod(
          QCoreApplication::instance(),
          [self, fraction] {
            if (self) emit self->progress(fraction);
          },
          Qt::QueuedConnection);
    return !cancel->load();
  };
  QEventLoop loop;
  QFutureWatcher<std::exception_ptr> watcher;
  connect(&watcher, &QFutureWatcherBase::finished, &loop, &QEventLoop::quit);
  watcher.setFuture(QtConcurrent::run([work, report]() -> std::exception_ptr {
    try {
      work(report);
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  }));
  if (!watcher.isFinished()) loop.exec();
  const std::exception_ptr error = watcher.result();
  running_ = false;
  cancel_.reset();
  emit finished();
  if (error) std::rethrow_exception(error);
}

}  // namespace mechscope
