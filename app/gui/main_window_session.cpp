// The window's session slots: new / open / save / save as, figure export, and the window state a
// session keeps (views["workbench"]). Opening a session shows its stored Results as they were
// saved; nothing is recomputed and no model is needed.
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>

#include "app/gui/analysis_area.h"
#include "app/gui/main_window.h"
#include "app/gui/model_host.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/results_browser.h"
#include "app/gui/session_controller.h"
#include "app/gui/task_picker.h"
#include "views/figure_export.h"
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

/// Sets the wait cursor while alive (saving, opening and exporting run on the GUI thread).
struct WaitCursor {
  WaitCursor() { QApplication::setOverrideCursor(Qt::WaitCursor); }
  ~WaitCursor() { QApplication::restoreOverrideCursor(); }
};

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

bool MainWindow::openSession(const QString& path) {
  Session read;
  try {  // a file that cannot be opened is reported before anything is asked or changed
    WaitCursor wait;
    read = SessionController::read(path);
  } catch (const std::exception& e) {
    showError(tr("Could not open the session"), QString::fromUtf8(e.what()));
    return false;
  }
  if (!session_->maybeSave(this)) return false;
  const nlohmann::json views = session_->adopt(std::move(read), path);
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

bool MainWindow::saveSession() {
  if (session_->path().isEmpty()) {
    onSaveSessionAs();
    return !session_->path().isEmpty() && !session_->isDirty();
  }
  WaitCursor wait;
  const bool ok = session_->save();
  if (ok) statusLabel_->setText(tr("Saved %1.").arg(session_->path()));
  return ok;
}

bool MainWindow::saveSessionAs(const QString& path) {
  WaitCursor wait;
  const bool ok = session_->saveAs(path);
  if (ok) statusLabel_->setText(tr("Saved %1.").arg(session_->path()));
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
  try {
    WaitCursor wait;
    const auto files = export_session(session_->snapshot(), dir.toStdString(),
                                      {"png", "svg", "pdf"}, kExportWidth);
    statusLabel_->setText(tr("Exported %1 files to %2.").arg(files.size()).arg(dir));
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
  ResultView* view = analysis_->view(id);
  if (!view) {
    showError(tr("Could not export the figure"), tr("There is no result '%1'.").arg(id));
    return false;
  }
  QString format = QFileInfo(file).suffix().toLower();
  if (format.isEmpty()) {
    format = QStringLiteral("png");
    file += QStringLiteral(".png");
  }
  try {
    WaitCursor wait;
    const QByteArray bytes = render_figure(*view, format.toStdString(), kExportWidth,
                                           view->figureHeightForWidth(kExportWidth));
    QFile out(file);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || out.write(bytes) != bytes.size())
      throw std::runtime_error(
          tr("Cannot write %1: %2.").arg(file, out.errorString()).toStdString());
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
