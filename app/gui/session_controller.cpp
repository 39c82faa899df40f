#include "app/gui/session_controller.h"

#include <QFileDialog>
#include <QFileInfo>

#include "app/gui/file_job.h"
#include "core/util/error.h"

namespace mechscope {
namespace {

std::filesystem::path fsPath(const QString& path) {
  return std::filesystem::path(path.toStdString());
}

}  // namespace

SessionController::SessionController(QObject* parent) : QObject(parent) {
  savePath_ = [](QWidget* parent) {
    return QFileDialog::getSaveFileName(parent, tr("Save session"), {},
                                        tr("mechscope sessions (*.mscope)"));
  };
}

std::shared_ptr<const Result> SessionController::find(const QString& id) const {
  const std::string key = id.toStdString();
  for (const auto& r : results_)
    if (r->id == key) return r;
  return nullptr;
}

std::shared_ptr<const Result> SessionController::addResult(Result result) {
  std::vector<std::string> ids;
  for (const auto& r : results_) ids.push_back(r->id);
  result.id = next_result_id(result.probe, ids);
  auto stored = std::make_shared<const Result>(std::move(result));
  results_.push_back(stored);
  setDirty(true);
  return stored;
}

bool SessionController::removeResult(const QString& id) {
  const std::string key = id.toStdString();
  for (auto it = results_.begin(); it != results_.end(); ++it) {
    if ((*it)->id != key) continue;
    results_.erase(it);
    setDirty(true);
    return true;
  }
  return false;
}

void SessionController::addPrompt(const SessionPrompt& prompt) {
  if (prompt.text.empty()) return;
  for (const SessionPrompt& p : prompts_)
    if (p.text == prompt.text && p.corrupt == prompt.corrupt && p.answer == prompt.answer) return;
  prompts_.push_back(prompt);
}

QString SessionController::displayName() const {
  return path_.isEmpty() ? tr("untitled") : QFileInfo(path_).fileName();
}

void SessionController::markDirty() {
  if (results_.empty() && path_.isEmpty()) return;
  setDirty(true);
}

Session SessionSnapshot::take() const {
  Session s = rest;
  s.results.reserve(results.size());
  for (const auto& r : results) s.results.push_back(*r);
  return s;
}

SessionSnapshot SessionController::snapshot() const {
  SessionSnapshot s;
  s.rest.model = model_;
  s.rest.prompts = prompts_;
  s.results = results_;
  s.rest.views = otherViews_;
  if (views_) s.rest.views.update(views_());
  return s;
}

void SessionController::reset() {
  model_ = nlohmann::json::object();
  prompts_.clear();
  results_.clear();
  otherViews_ = nlohmann::json::object();
  setPath({});
  setDirty(false);
}

Session SessionController::read(const QString& path, const SessionProgress& progress) {
  return load_session(fsPath(path), progress);
}

nlohmann::json SessionController::adopt(Session s, const QString& path) {
  model_ = s.model.is_object() ? s.model : nlohmann::json::object();
  prompts_ = std::move(s.prompts);
  results_.clear();
  for (Result& r : s.results) results_.push_back(std::make_shared<const Result>(std::move(r)));
  nlohmann::json views = s.views.is_object() ? s.views : nlohmann::json::object();
  otherViews_ = views;
  otherViews_.erase("workbench");
  otherViews_.erase("results");
  setPath(QFileInfo(path).absoluteFilePath());
  setDirty(false);
  return views;
}

nlohmann::json SessionController::adoptRecovered(Session s, const QString& original) {
  nlohmann::json views = adopt(std::move(s), original);
  if (original.isEmpty()) setPath({});
  setDirty(true);
  return views;
}

bool SessionController::save() {
  if (path_.isEmpty()) {
    emit failed(tr("Could not save the session"), tr("The session has no file yet: use Save as."));
    return false;
  }
  return saveAs(path_);
}

bool SessionController::saveAs(QString path) {
  if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".mscope");
  try {
    const SessionSnapshot session = snapshot();
    const auto file = fsPath(path);
    if (job_)
      job_->run(tr("Saving %1…").arg(QFileInfo(path).fileName()),
                [&](const SessionProgress& progress) { save_session(session.take(), file, progress); });
    else
      save_session(session.take(), file);
  } catch (const Cancelled&) {
    return false;
  } catch (const std::exception& e) {
    emit failed(tr("Could not save the session"), QString::fromUtf8(e.what()));
    return false;
  }
  setPath(QFileInfo(path).absoluteFilePath());
  setDirty(false);
  return true;
}

QString SessionController::askSavePath(QWidget* parent) const { return savePath_(parent); }

bool SessionController::maybeSave(QWidget* parent) {
  if (!dirty_) return true;
  emit unsavedChangesAsked();
  QMessageBox::StandardButton answer = autoAnswer_;
  if (answer == QMessageBox::NoButton) {
    answer = QMessageBox::warning(
        parent, tr("Unsaved changes"),
        tr("The session %1 has unsaved changes. Save them?").arg(displayName()),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
  }
  if (answer == QMessageBox::Discard) return true;
  if (answer != QMessageBox::Save) return false;
  if (!path_.isEmpty()) return save();
  const QString path = askSavePath(parent);
  return !path.isEmpty() && saveAs(path);
}

void SessionController::setDirty(bool dirty) {
  if (dirty) ++changes_;
  if (dirty_ == dirty) return;
  dirty_ = dirty;
  emit dirtyChanged(dirty);
}

void SessionController::setPath(const QString& path) {
  if (path_ == path) return;
  path_ = path;
  emit pathChanged(path);
}

}  // namespace mechscope
