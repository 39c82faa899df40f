// The window's session slots: new / open / save / save as, figure export, and the window state a
// session keeps (views["workbench"]). Opening a session shows its stored Results as they were
// saved; nothing is recomputed and no model is needed.
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>

#include "app/gui/analysis_area.h"
#include "app/gui/file_job.h"
#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/results_browser.h"
#include "app/gui/session_controller.h"
#include "app/gui/session_recovery.h"
#include "app/gui/task_picker.h"
#include "views/figure_export.h"
#include "core/util/error.h"
#include "views/result_view.h"

namespace mechscope {
namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

std::string jsonString(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

nlohmann::json sizes(const QSplitter* splitter) {
  nlohmann::json out = nlohmann::json::array();
  for (int s : splitter->sizes()) out.push_back(s);
  return out;
}

void applySizes(QSplitter* splitter, const nlohmann::json& sizes) {
  if (!sizes.is_array() || int(sizes.size()) != splitter->count()) return;
  QList<int> list;
  for (const auto& s : sizes) {
    if (!s.is_number_integer() || s.get<int>() < 0) return;
    list << s.get<int>();
  }
  splitter->setSizes(list);
}

/// Whether the user left `dock` open: not closed by them (children of a window not shown yet
/// count as hidden, so isHidden() alone would say every dock is closed).
bool dockOpen(const QDockWidget* dock) {
  return !(dock->isHidden() && dock->testAttribute(Qt::WA_WState_ExplicitShowHide));
}

/// The file a path names, for status messages.
QString fileName(const QString& path) { return QFileInfo(path).fileName(); }

}  // namespace

nlohmann::json MainWindow::workbenchState() const {
  return {
      {"selected", selectedResultId().toStdString()},
      {"prompt",
       {{"text", promptPanel_->prompt().toStdString()},
        {"corrupt", promptPanel_->corruptPrompt().toStdString()},
        {"answer", promptPanel_->answer().toStdString()},
        {"task", promptPanel_->taskPicker()->taskName().toStdString()},
        {"patching_inputs_open", promptPanel_->patchingInputsVisible()}}},
      {"docks", {{"model", dockOpen(modelDock_)}, {"results", dockOpen(resultsDock_)}}},
      {"page", pages_->currentIndex() == 0 ? "start" : "workspace"},
      {"splitters", {{"workspace", sizes(workspace_)}, {"inputs", sizes(inputs_)}}},
  };
}

void MainWindow::applyWorkbenchState(const nlohmann::json& state) {
  if (!state.is_object()) return;
  const bool wasRestoring = restoring_;
  restoring_ = true;
  if (const auto p = state.find("prompt"); p != state.end() && p->is_object()) {
    promptPanel_->setPrompt(qs(jsonString(*p, "text")));
    promptPanel_->setCorruptPrompt(qs(jsonString(*p, "corrupt")));
    promptPanel_->setAnswer(qs(jsonString(*p, "answer")));
    promptPanel_->taskPicker()->setTaskName(qs(jsonString(*p, "task")));
    const auto open = p->find("patching_inputs_open");
    if (open != p->end() && open->is_boolean()) promptPanel_->setPatchingInputsVisible(*open);
  }
  if (const auto d = state.find("docks"); d != state.end() && d->is_object()) {
    if (d->contains("model") && (*d)["model"].is_boolean())
      modelDock_->setVisible((*d)["model"].get<bool>());
    if (d->contains("results") && (*d)["results"].is_boolean())
      resultsDock_->setVisible((*d)["results"].get<bool>());
  }
  if (const auto s = state.find("splitters"); s != state.end() && s->is_object()) {
    if (s->contains("workspace")) applySizes(workspace_, (*s)["workspace"]);
    if (s->contains("inputs")) applySizes(inputs_, (*s)["inputs"]);
  }
  const QString selected = qs(jsonString(state, "selected"));
  selectResult(session_->find(selected) ? selected : QString());
  restoring_ = wasRestoring;
}

void MainWindow::showSessionResults(const nlohmann::json& views) {
  results_->clear();
  analysis_->clear();
  const nlohmann::json none = nlohmann::json::object();
  const auto resultViews = views.find("results");
  for (const auto& r : session_->results()) {
    const nlohmann::json* state = &none;
    if (resultViews != views.end() && resultViews->is_object()) {
      const auto it = resultViews->find(r->id);
      if (it != resultViews->end()) state = &*it;
    }
    results_->addResult(*r);
    analysis_->addResult(r, *state);
  }
}

bool MainWindow::newSession() {
  if (!session_->maybeSave(this)) return false;
  results_->clear();
  analysis_->clear();
  session_->reset();
  session_->setModel(host_->identity());
  updatePage();
  updateTitle();
  updateState();
  statusLabel_->setText(tr("New session."));
  return true;
}

bool MainWindow::readSession(const QString& path, Session& out) {
  if (fileJob_->running()) return false;
  try {
    fileJob_->run(tr("Opening %1…").arg(fileName(path)), [&](const SessionProgress& progress) {
      out = SessionController::read(path, progress);
    });
  } catch (const Cancelled&) {
    statusLabel_->setText(tr("Opening %1 was cancelled.").arg(fileName(path)));
    return false;
  } catch (const std::exception& e) {
    showError(tr("Could not open the session"), QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

void MainWindow::showOpenedSession(const nlohmann::json& views) {
  restoring_ = true;
  showSessionResults(views);
  const auto workbench = views.find("workbench");
  const bool hasWorkbench = workbench != views.end() && workbench->is_object();
  if ((!hasWorkbench || !workbench->contains("prompt")) && !session_->prompts().empty()) {
    const SessionPrompt& last = session_->prompts().back();  // e.g. a session the CLI wrote
    promptPanel_->setPrompt(qs(last.text));
    promptPanel_->setCorruptPrompt(qs(last.corrupt));
    promptPanel_->setAnswer(qs(last.answer));
  }
  applyWorkbenchState(hasWorkbench ? *workbench : nlohmann::json::object());
  if (selectedResultId().isEmpty() && !session_->results().empty())  // none saved: the newest
    selectResult(qs(session_->results().back()->id));
  restoring_ = false;
  updatePage();
  updateTitle();
  updateState();
}

bool MainWindow::openSession(const QString& path) {
  Session read;  // a file that cannot be opened is reported before anything is asked or changed
  if (!readSession(path, read)) return false;
  if (!session_->maybeSave(this)) return false;
  showOpenedSession(session_->adopt(std::move(read), path));

  const QString model = qs(jsonString(session_->model(), "name"));
  const size_t n = session_->results().size();
  QString text = (n == 1 ? tr("Opened %1: 1 result.") : tr("Opened %1: %2 results.").arg(n))
                     .arg(session_->displayName());
  if (!model.isEmpty() &&
      qs(jsonString(host_->identity(), "path")) != qs(jsonString(session_->model(), "path")))
    text += tr(" Its model, %1, is not loaded: Model → Open the session's model to run probes.")
                .arg(model);
  statusLabel_->setText(text);
  return true;
}

bool MainWindow::offerRecovery() {
  const std::vector<SessionRecovery::Pending> pending = recovery_->pending();
  if (pending.empty()) return false;
  const SessionRecovery::Pending& p = pending.front();
  QMessageBox::StandardButton answer = recoveryAnswer_;
  if (answer == QMessageBox::NoButton) {
    QMessageBox box(QMessageBox::Warning, tr("Recover unsaved work"),
                    tr("mechscope did not close properly. Its session %1 had unsaved work "
                       "(%n result(s), autosaved %2). Recover it?",
                       nullptr, p.results)
                        .arg(p.original.isEmpty() ? tr("(untitled)") : fileName(p.original),
                             QLocale().toString(p.saved, QLocale::ShortFormat)),
                    QMessageBox::Open | QMessageBox::Discard | QMessageBox::Cancel, this);
    box.button(QMessageBox::Open)->setText(tr("Recover"));
    box.button(QMessageBox::Cancel)->setText(tr("Not now"));
    answer = QMessageBox::StandardButton(box.exec());
  }
  if (answer == QMessageBox::Discard) SessionRecovery::discard(p);
  if (answer != QMessageBox::Open) return false;
  Session read;
  if (!readSession(p.file, read) || !session_->maybeSave(this)) return false;
  showOpenedSession(session_->adoptRecovered(std::move(read), p.original));
  SessionRecovery::discard(p);
  recovery_->autosave();  // the recovered work is this instance's to keep safe now
  statusLabel_->setText(tr("Recovered %n result(s): save the session to keep them.", nullptr,
                           int(session_->results().size())));
  return true;
}

bool MainWindow::saveSession() {
  if (fileJob_->running()) return false;
  if (session_->path().isEmpty()) {
    onSaveSessionAs();
    return !session_->path().isEmpty() && !session_->isDirty();
  }
  const bool ok = session_->save();
  statusLabel_->setText(ok ? tr("Saved %1.").arg(session_->path()) : tr("Not saved."));
  return ok;
}

bool MainWindow::saveSessionAs(const QString& path) {
  if (fileJob_->running()) return false;
  const bool ok = session_->saveAs(path);
  statusLabel_->setText(ok ? tr("Saved %1.").arg(session_->path()) : tr("Not saved."));
  updateState();
  return ok;
}

void MainWindow::onOpenSession() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open session"), {}, tr("mechscope sessions (*.mscope);;All files (*)"));
  if (!path.isEmpty()) openSession(path);
}

void MainWindow::onSaveSessionAs() {
  const QString path = session_->askSavePath(this);
  if (!path.isEmpty()) saveSessionAs(path);
}

bool MainWindow::exportAllFigures(const QString& dir) {
  if (session_->results().empty()) {
    statusLabel_->setText(tr("No results to export."));
    return false;
  }
  if (fileJob_->running()) return false;
  try {
    const SessionSnapshot snapshot = session_->snapshot();
    std::vector<std::filesystem::path> files;
    fileJob_->run(tr("Exporting figures to %1…").arg(dir), [&](const SessionProgress& progress) {
      files = export_session(snapshot.take(), dir.toStdString(), {"png", "svg", "pdf"}, kExportWidth, {},
                             {&FileJob::onGuiThread, progress});
    });
    statusLabel_->setText(tr("Exported %1 files to %2.").arg(files.size()).arg(dir));
  } catch (const Cancelled&) {
    statusLabel_->setText(tr("Export cancelled."));
    return false;
  } catch (const std::exception& e) {
    showError(tr("Could not export the figures"), QString::fromUtf8(e.what()));
    return false;
  }
  return true;
}

void MainWindow::onExportAllFigures() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Export all figures to"));
  if (!dir.isEmpty()) exportAllFigures(dir);
}

bool MainWindow::exportFigure(const QString& id, QString file) {
  if (fileJob_->running()) return false;
  ResultView* view = analysis_->view(id);
  const std::shared_ptr<const Result> result = session_->find(id);
  if (!view || !result) {
    showError(tr("Could not export the figure"), tr("There is no result '%1'.").arg(id));
    return false;
  }
  if (QFileInfo(file).suffix().isEmpty()) file += QStringLiteral(".png");
  try {
    const nlohmann::json state = view->state();  // drawn as shown now
    fileJob_->run(tr("Exporting %1…").arg(fileName(file)), [&](const SessionProgress& progress) {
      export_figure_file(*result, state, file.toStdString(), kExportWidth,
                         {&FileJob::onGuiThread, progress});
    });
  } catch (const Cancelled&) {
    statusLabel_->setText(tr("Export cancelled."));
    return false;
  } catch (const std::exception& e) {
    showError(tr("Could not export the figure"), QString::fromUtf8(e.what()));
    return false;
  }
  statusLabel_->setText(tr("Exported %1 to %2.").arg(id, file));
  return true;
}

void MainWindow::onExportFigure(const QString& id) {
  const QString png = tr("PNG image (*.png)"), svg = tr("SVG drawing (*.svg)"),
                pdf = tr("PDF document (*.pdf)");
  QString filter = png;
  QString file = QFileDialog::getSaveFileName(
      this, tr("Export figure"), qs(export_file_stem(id.toStdString())) + QStringLiteral(".png"),
      QStringList{png, svg, pdf}.join(QStringLiteral(";;")), &filter);
  if (file.isEmpty()) return;
  if (QFileInfo(file).suffix().isEmpty())  // the chosen filter says the format
    file += filter == svg   ? QStringLiteral(".svg")
            : filter == pdf ? QStringLiteral(".pdf")
                            : QStringLiteral(".png");
  exportFigure(id, file);
}

void MainWindow::onOpenSessionModel() {
  const QString path = qs(jsonString(session_->model(), "path"));
  if (!path.isEmpty()) openModel(path, qs(jsonString(session_->model(), "tokenizer")));
}

}  // namespace mechscope
