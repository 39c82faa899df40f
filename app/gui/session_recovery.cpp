#include "app/gui/session_recovery.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLockFile>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <nlohmann/json.hpp>

namespace mechscope {
namespace {

/// Reads a copy's sidecar ({"original", "saved", "results"}); false when it is unreadable.
bool readSidecar(const QString& file, SessionRecovery::Pending& out) {
  QFile f(file);
  if (!f.open(QIODevice::ReadOnly)) return false;
  const nlohmann::json j = nlohmann::json::parse(f.readAll().toStdString(), nullptr, false);
  if (!j.is_object()) return false;
  out.original = QString::fromStdString(j.value("original", std::string()));
  out.saved = QDateTime::fromString(QString::fromStdString(j.value("saved", std::string())),
                                    Qt::ISODate);
  out.results = j.value("results", 0);
  return true;
}

}  // namespace

SessionRecovery::SessionRecovery(QObject* parent)
    : QObject(parent),
      dir_(defaultDirectory()),
      id_(QStringLiteral("session-%1-%2")
              .arg(QCoreApplication::applicationPid())
              .arg(QDateTime::currentMSecsSinceEpoch())),
      timer_(new QTimer(this)) {
  connect(timer_, &QTimer::timeout, this, &SessionRecovery::autosave);
}

SessionRecovery::~SessionRecovery() {
  timer_->stop();
  while (writing_) QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
  clear();
}

QString SessionRecovery::defaultDirectory() {
  return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
         QStringLiteral("/recovery");
}

std::chrono::milliseconds SessionRecovery::defaultInterval() {
  bool ok = false;
  const double seconds = qEnvironmentVariable("MECHSCOPE_AUTOSAVE_SECONDS").toDouble(&ok);
  if (ok && seconds > 0) return std::chrono::milliseconds(int64_t(seconds * 1000));
  return std::chrono::minutes(2);
}

void SessionRecovery::setDirectory(const QString& dir) {
  clear();
  lock_.reset();
  dir_ = dir;
}

QString SessionRecovery::path(const QString& id, const char* suffix) const {
  return dir_ + QLatin1Char('/') + id + QLatin1String(suffix);
}

QString SessionRecovery::file() const { return path(id_, ".mscope"); }

void SessionRecovery::lock() {
  if (lock_) return;
  QDir().mkpath(dir_);
  lock_ = std::make_unique<QLockFile>(path(id_, ".lock"));
  lock_->setStaleLockTime(0);  // stale only when its process is gone, never by age
  if (!lock_->tryLock(0)) emit failed(tr("Cannot lock %1.").arg(path(id_, ".lock")));
}

void SessionRecovery::watch(std::function<SessionSnapshot()> snapshot, std::function<QString()> original,
                            std::function<quint64()> changes) {
  snapshot_ = std::move(snapshot);
  original_ = std::move(original);
  changes_ = std::move(changes);
}

void SessionRecovery::start(std::chrono::milliseconds interval) {
  timer_->start(int(std::min<int64_t>(interval.count(), INT32_MAX)));
}

void SessionRecovery::autosave() {
  if (writing_ || !snapshot_ || !changes_) return;
  const quint64 changes = changes_();
  if (changes == 0) return clear();  // nothing unsaved
  if (changes == saved_) return;
  lock();
  writing_ = true;
  const SessionSnapshot session = snapshot_();
  const QString target = file(), sidecar = path(id_, ".json");
  const nlohmann::json info = {
      {"original", original_ ? original_().toStdString() : std::string()},
      {"saved", QDateTime::currentDateTime().toString(Qt::ISODate).toStdString()},
      {"results", session.results.size()}};  // copied in on the worker (take())
  auto* watcher = new QFutureWatcher<QString>(this);
  connect(watcher, &QFutureWatcher<QString>::finished, this, [this, watcher, changes, target] {
    const QString error = watcher->result();
    watcher->deleteLater();
    writing_ = false;
    if (!error.isEmpty()) return emit failed(error);
    saved_ = changes;
    if (changes_ && changes_() == 0) return clear();  // saved or discarded meanwhile
    emit autosaved(target);
  });
  watcher->setFuture(QtConcurrent::run([session, target, sidecar, info]() -> QString {
    try {
      save_session(session.take(), target.toStdString());
      QSaveFile out(sidecar);
      const QByteArray bytes = QByteArray::fromStdString(info.dump(2));
      if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit())
        return tr("Cannot write %1: %2.").arg(sidecar, out.errorString());
    } catch (const std::exception& e) {
      return QString::fromUtf8(e.what());
    }
    return QString();
  }));
}

void SessionRecovery::clear() {
  QFile::remove(path(id_, ".json"));
  QFile::remove(file());
  saved_ = 0;
}

std::vector<SessionRecovery::Pending> SessionRecovery::pending() const {
  std::vector<Pending> out;
  const QDir dir(dir_);
  for (const QFileInfo& info : dir.entryInfoList({QStringLiteral("session-*.json")}, QDir::Files)) {
    const QString id = info.completeBaseName();
    if (id == id_) continue;
    QLockFile lock(path(id, ".lock"));
    lock.setStaleLockTime(0);
    if (!lock.tryLock(0)) continue;  // its instance is still running
    Pending p;
    p.file = path(id, ".mscope");
    if (readSidecar(info.absoluteFilePath(), p) && QFileInfo::exists(p.file)) out.push_back(p);
  }
  std::sort(out.begin(), out.end(),
            [](const Pending& a, const Pending& b) { return a.saved > b.saved; });
  return out;
}

void SessionRecovery::discard(const Pending& pending) {
  const QString stem = pending.file.left(pending.file.size() - int(qstrlen(".mscope")));
  QFile::remove(pending.file);
  QFile::remove(stem + QStringLiteral(".json"));
  QFile::remove(stem + QStringLiteral(".lock"));
}

}  // namespace mechscope
