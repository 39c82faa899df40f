#include "app/gui/main_window.h"

#include "app/gui/image_slot.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <optional>

#include "app/gui/analysis_area.h"
#include "core/model/default_model.h"
#include "core/model/model.h"
#include "app/gui/file_job.h"
#include "app/gui/session_recovery.h"
#include "app/gui/generate_panel.h"
#include "app/gui/model_host.h"
#include "app/gui/model_panel.h"
#include "app/gui/probe_actions.h"
#include "app/gui/sae_splice_dialog.h"
#include "app/gui/sae_train_dialog.h"
#include "probes/neuron_clamp.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/recent_models.h"
#include "app/gui/results_browser.h"
#include "app/gui/session_controller.h"
#include "app/gui/task_picker.h"
#include "core/tokenizer/tokenizer.h"
#include "probes/tasks/task.h"

namespace mechscope {
namespace {

// A llama2.c checkpoint's tokenizer: tokenizer.bin next to it (the loader finds that itself),
// else the only other tok*.bin in its folder (e.g. stories260K's tok512.bin).
QString guessLlama2cTokenizer(const QString& modelFile) {
  const QFileInfo info(modelFile);
  if (QFileInfo::exists(info.dir().filePath("tokenizer.bin"))) return {};
  const QStringList candidates = info.dir().entryList({"tok*.bin"}, QDir::Files);
  return candidates.size() == 1 ? info.dir().filePath(candidates.front()) : QString();
}

// Task examples are lists of words. Rendered for people ("store, John") they suit subword
// tokenizers; a word-level tokenizer (mechscope's own models) would read "store," as one unknown
// word, so for those the words are joined by single spaces instead.
TaskPicker::WordRenderer wordRenderer(const ModelHost* host) {
  return [host](const std::vector<std::string>& words) {
    const std::string rendered = tasks::render_words(words);
    const Tokenizer* tok = host->tokenizer();
    if (tok == nullptr) return QString::fromStdString(rendered);
    std::optional<int64_t> unk = tok->token_to_id("<unk>");
    if (!unk) unk = tok->token_to_id("[UNK]");
    if (!unk) return QString::fromStdString(rendered);
    try {
      for (int64_t id : tok->encode(rendered, false).ids)
        if (id == *unk) {
          std::string spaced;
          for (const std::string& w : words) spaced += (spaced.empty() ? "" : " ") + w;
          return QString::fromStdString(spaced);
        }
    } catch (const std::exception&) {
    }
    return QString::fromStdString(rendered);
  };
}

QString jsonText(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? QString::fromStdString(it->get<std::string>())
                                               : QString();
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      host_(new ModelHost(this)),
      session_(new SessionController(this)),
      fileJob_(new FileJob(this)),
      recovery_(new SessionRecovery(this)) {
  setObjectName("mainWindow");
  session_->setFileJob(fileJob_);
  recovery_->watch([this] { return session_->snapshot(); }, [this] { return session_->path(); },
                   [this] { return session_->unsavedChanges(); });
  recovery_->start();
  connect(session_, &SessionController::dirtyChanged, recovery_, [this](bool dirty) {
    if (!dirty) recovery_->clear();
  });
  createActions();
  createDocks();

  pages_ = new QStackedWidget(this);
  pages_->setObjectName("pages");
  pages_->addWidget(createEmptyPage());
  pages_->addWidget(createWorkspace());
  setCentralWidget(pages_);
  createStatusBar();

  probes_ = new ProbeActions(host_, promptPanel_, this);
  menuBar()->insertMenu(menuBar()->actions().value(2), probes_->menu());  // after File, Model
  auto* toolbar = addToolBar(tr("Main"));
  toolbar->setObjectName("mainToolbar");
  toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
  toolbar->addAction(run_);
  probes_->addToToolBar(toolbar);
  toolbar->addAction(cancel_);

  connect(modelPanel_, &ModelPanel::recentActivated, this, &MainWindow::openModel);
  connect(modelPanel_, &ModelPanel::processingChanged, this, [this] {
    host_->setProcessing(modelPanel_->processing());
    if (host_->hasModel() && !host_->busy())  // reopen the open model with the new weights
      openModel(QString::fromStdString(host_->identity().value("path", std::string())),
                QString::fromStdString(host_->identity().value("tokenizer", std::string())));
  });
  connect(promptPanel_, &PromptPanel::promptChanged, this, &MainWindow::onPromptChanged);
  connect(promptPanel_, &PromptPanel::inputsEdited, this, [this] {
    if (!restoring_) session_->markDirty();
  });
  connect(promptPanel_, &PromptPanel::runRequested, this, &MainWindow::onRun);
  connect(promptPanel_->taskPicker(), &TaskPicker::failed, this,
          [this](const QString& message) { showError(tr("Could not make an example"), message); });
  connect(promptPanel_->imageSlot(), &ImageSlot::failed, this,
          [this](const QString& message) { showError(tr("Could not use the image"), message); });
  promptPanel_->taskPicker()->setWordRenderer(wordRenderer(host_));
  connect(generatePanel_, &GeneratePanel::generateRequested, this, &MainWindow::onGenerate);
  connect(generatePanel_, &GeneratePanel::cancelRequested, this, &MainWindow::onCancel);

  connect(results_, &ResultsBrowser::selectionChanged, analysis_, &AnalysisArea::showResult);
  connect(results_, &ResultsBrowser::exportRequested, this, &MainWindow::onExportFigure);
  connect(results_, &ResultsBrowser::deleteRequested, this, &MainWindow::deleteResult);
  connect(analysis_, &AnalysisArea::viewStateChanged, this, [this] {
    if (!restoring_) session_->markDirty();
  });
  connect(probes_, &ProbeActions::message, statusLabel_, &QLabel::setText);
  connect(probes_, &ProbeActions::failed, this, &MainWindow::showError);
  connect(session_, &SessionController::dirtyChanged, this, &MainWindow::updateTitle);
  connect(session_, &SessionController::pathChanged, this, &MainWindow::updateTitle);
  connect(session_, &SessionController::failed, this, &MainWindow::showError);
  session_->setViewsProvider([this] {
    return nlohmann::json{{"workbench", workbenchState()}, {"results", analysis_->viewStates()}};
  });
  connectHost();
  connectFileJob();

  probes_->scanDefaultPlugins();
  updateState();
  updateTitle();
  resize(1400, 900);
}

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  openFolder_ = file->addAction(tr("Open model &folder…"), this, &MainWindow::onOpenModelFolder);
  openFolder_->setShortcut(QKeySequence::Open);
  openFolder_->setToolTip(tr("A Hugging Face folder: config.json, *.safetensors, tokenizer.json"));
  openFile_ = file->addAction(tr("Open model &file…"), this, &MainWindow::onOpenLlama2cFile);
  file->addSeparator();
  // Disabled while a session file operation runs in the background (fileJob_).
  fileActions_ = {
      file->addAction(tr("&New session"), this, &MainWindow::newSession),
      file->addAction(tr("Open &session…"), this, &MainWindow::onOpenSession),
      file->addAction(tr("&Save session"), this, &MainWindow::saveSession),
      file->addAction(tr("Save session &as…"), this, &MainWindow::onSaveSessionAs),
  };
  fileActions_[0]->setShortcut(QKeySequence::New);
  fileActions_[1]->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  fileActions_[2]->setShortcut(QKeySequence::Save);
  fileActions_[3]->setShortcut(QKeySequence::SaveAs);
  file->addSeparator();
  fileActions_.push_back(
      file->addAction(tr("&Export all figures…"), this, &MainWindow::onExportAllFigures));
  file->addSeparator();
  file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows)
      ->setShortcut(QKeySequence::Quit);

  QMenu* model = menuBar()->addMenu(tr("&Model"));
  run_ = model->addAction(tr("&Run"), this, &MainWindow::onRun);
  run_->setToolTip(tr("Forward pass: top-k next-token predictions (Ctrl+Enter)"));
  run_->setShortcuts(
      {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  generate_ = model->addAction(tr("&Generate"), this, &MainWindow::onGenerate);
  generate_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return));
  cancel_ = model->addAction(tr("&Cancel"), this, &MainWindow::onCancel);
  cancel_->setShortcut(QKeySequence(Qt::Key_Escape));
  cancel_->setToolTip(tr("Stop the running generation, probe or file operation (Esc)"));
  model->addSeparator();
  openSessionModel_ =
      model->addAction(tr("Open the &session's model"), this, &MainWindow::onOpenSessionModel);
  openSessionModel_->setToolTip(tr("Load the model the session's results were made with"));
  model->addSeparator();
  spliceSae_ = model->addAction(tr("Splice S&AE…"), this, &MainWindow::onSpliceSae);
  spliceSae_->setToolTip(tr("Run every forward pass through a sparse autoencoder (an SAELens "
                            "folder), optionally steering its features"));
  removeSae_ = model->addAction(tr("Remove SAE"), this,
                                [this] { host_->spliceSae({}, false, true, {}); });
  trainSae_ = model->addAction(tr("&Train SAE…"), this,
                               [this] { SaeTrainDialog::openFor(host_, this); });
  trainSae_->setObjectName("trainSaeAction");
  trainSae_->setToolTip(tr("Train a sparse autoencoder on the open model's activations at a "
                           "hook point (runs in the background)"));
}

void MainWindow::onSpliceSae() {
  SaeSpliceDialog dialog(this);
  if (dialog.exec() != QDialog::Accepted) return;
  host_->spliceSae(dialog.folder(), dialog.errorTerm(), dialog.replace(), dialog.steer());
}

void MainWindow::createDocks() {
  modelPanel_ = new ModelPanel(openFolder_, openFile_, this);
  modelPanel_->setRecent(RecentModels::load());
  QStringList installed;
  for (const auto& path : installed_models()) installed << QString::fromStdString(path.string());
  modelPanel_->setInstalled(installed);
  modelDock_ = new QDockWidget(tr("Model"), this);
  modelDock_->setObjectName("modelDock");
  modelDock_->setWidget(modelPanel_);
  addDockWidget(Qt::LeftDockWidgetArea, modelDock_);

  results_ = new ResultsBrowser(this);
  results_->setObjectName("resultsBrowser");
  resultsDock_ = new QDockWidget(tr("Results"), this);
  resultsDock_->setObjectName("resultsDock");
  resultsDock_->setWidget(results_);
  addDockWidget(Qt::LeftDockWidgetArea, resultsDock_);
  splitDockWidget(modelDock_, resultsDock_, Qt::Vertical);
  resizeDocks({modelDock_, resultsDock_}, {480, 320}, Qt::Vertical);
  resizeDocks({modelDock_}, {300}, Qt::Horizontal);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(modelDock_->toggleViewAction());
  view->addAction(resultsDock_->toggleViewAction());
}

QWidget* MainWindow::createWorkspace() {
  promptPanel_ = new PromptPanel(this);
  generatePanel_ = new GeneratePanel(this);
  inputs_ = new QSplitter(Qt::Vertical, this);
  inputs_->setObjectName("inputsSplitter");
  inputs_->addWidget(promptPanel_);
  inputs_->addWidget(generatePanel_);
  inputs_->setStretchFactor(0, 3);
  inputs_->setStretchFactor(1, 1);
  analysis_ = new AnalysisArea(this);
  workspace_ = new QSplitter(Qt::Horizontal, this);
  workspace_->setObjectName("workspace");
  workspace_->addWidget(inputs_);
  workspace_->addWidget(analysis_);
  workspace_->setStretchFactor(0, 2);
  workspace_->setStretchFactor(1, 5);
  workspace_->setSizes({420, 900});
  return workspace_;
}

void MainWindow::createStatusBar() {
  statusLabel_ = new QLabel(tr("Open a model to start."), this);
  statusLabel_->setObjectName("statusLabel");
  progress_ = new QProgressBar(this);
  progress_->setObjectName("jobProgress");
  progress_->setMaximumWidth(240);
  progress_->hide();
  cancelButton_ = new QToolButton(this);
  cancelButton_->setObjectName("statusCancel");
  cancelButton_->setDefaultAction(cancel_);
  cancelButton_->hide();
  statusBar()->addWidget(statusLabel_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancelButton_);
}

void MainWindow::connectFileJob() {
  connect(fileJob_, &FileJob::started, this, [this](const QString& label) {
    showProgress(0, 1000, tr("%p%"));
    statusLabel_->setText(label);
    updateState();
  });
  connect(fileJob_, &FileJob::progress, this,
          [this](double fraction) { progress_->setValue(int(fraction * 1000)); });
  connect(fileJob_, &FileJob::finished, this, [this] {
    hideProgress();
    updateState();
  });
}

void MainWindow::connectHost() {
  connect(host_, &ModelHost::busyChanged, this, &MainWindow::updateState);
  connect(host_, &ModelHost::loadStarted, modelPanel_, &ModelPanel::onLoadStarted);
  connect(host_, &ModelHost::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(host_, &ModelHost::saeChanged, this, [this](const QString& splice) {
    modelPanel_->onModelLoaded(host_->summary());
    statusLabel_->setText(splice.isEmpty() ? tr("SAE removed.") : tr("SAE spliced: %1.").arg(splice));
    updateState();
  });
  connect(host_, &ModelHost::predictionsReady, this, [this](const QVector<PredictionRow>& rows) {
    promptPanel_->setPredictions(rows);
    if (!rows.isEmpty())
      statusLabel_->setText(tr("Top prediction: \"%1\" (%2)")
                                .arg(rows.front().text,
                                     PredictionsView::formatProbability(rows.front().probability)));
  });
  connect(host_, &ModelHost::generationStarted, this, [this](int total) {
    generatePanel_->onGenerationStarted(promptPanel_->prompt());
    showProgress(0, total, tr("%v / %m tokens"));
  });
  connect(host_, &ModelHost::generationProgress, this,
          [this](const QString& text, int generated, int total) {
            generatePanel_->onGenerationProgress(text);
            progress_->setValue(generated);
            statusLabel_->setText(tr("Generating: %1 / %2 tokens").arg(generated).arg(total));
          });
  connect(host_, &ModelHost::generationFinished, this,
          [this](const QString& text, int generated, bool cancelled) {
            generatePanel_->onGenerationFinished(text, cancelled);
            hideProgress();
            statusLabel_->setText(cancelled
                                      ? tr("Generation cancelled after %1 tokens.").arg(generated)
                                      : tr("Generated %1 tokens.").arg(generated));
          });
  connect(host_, &ModelHost::probeStarted, this, [this](const QString& title) {
    showProgress(0, 100, tr("%p%"));
    statusLabel_->setText(tr("%1: running…").arg(title));
  });
  connect(host_, &ModelHost::probeProgress, progress_, &QProgressBar::setValue);
  connect(host_, &ModelHost::probeFinished, this, &MainWindow::onProbeFinished);
  connect(host_, &ModelHost::probeCancelled, this, [this](const QString& title) {
    hideProgress();
    statusLabel_->setText(tr("%1: cancelled.").arg(title));
  });
  connect(host_, &ModelHost::failed, this, [this](const QString& title, const QString& message) {
    if (!loadingPath_.isEmpty()) {  // a failed load leaves the previous model (if any) open
      loadingPath_.clear();
      if (host_->hasModel())
        modelPanel_->onModelLoaded(host_->summary());
      else
        modelPanel_->onLoadFailed();
    }
    hideProgress();
    showError(title, message);
  });
}

QWidget* MainWindow::createEmptyPage() {
  auto* page = new QWidget(this);
  page->setObjectName("emptyPage");
  auto* layout = new QVBoxLayout(page);
  layout->addStretch(1);
  auto* title =
      new QLabel(tr("<h2>Open a model…</h2>"
                    "<p>A Hugging Face folder (config.json + safetensors), a GGUF file, a "
                    "llama2.c <tt>.bin</tt> checkpoint, or a saved session.<br>From the "
                    "command line: <tt>mechscope --model PATH [--tokenizer PATH]</tt></p>"),
                 page);
  title->setAlignment(Qt::AlignCenter);
  layout->addWidget(title);
  for (QAction* action : {openFolder_, openFile_}) {
    auto* button = new QPushButton(action->text(), page);
    connect(button, &QPushButton::clicked, action, &QAction::trigger);
    layout->addWidget(button, 0, Qt::AlignHCenter);
  }
  auto* session = new QPushButton(tr("Open session…"), page);
  connect(session, &QPushButton::clicked, this, &MainWindow::onOpenSession);
  layout->addWidget(session, 0, Qt::AlignHCenter);
  layout->addStretch(2);
  return page;
}

void MainWindow::setWeightProcessing(const WeightProcessing& processing) {
  modelPanel_->setProcessing(processing);
  host_->setProcessing(processing);
}

void MainWindow::openModel(const QString& path, const QString& tokenizer) {
  if (host_->busy()) {
    showError(tr("Busy"), tr("Wait for the running job to finish (or cancel it) first."));
    return;
  }
  loadingPath_ = path;
  loadingTokenizer_ = tokenizer;
  statusLabel_->setText(tr("Loading %1 …").arg(path));
  host_->openModel(path, tokenizer);
}

void MainWindow::onOpenModelFolder() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open model folder"));
  if (!dir.isEmpty()) openModel(dir);
}

void MainWindow::onOpenLlama2cFile() {
  const QString file = QFileDialog::getOpenFileName(
      this, tr("Open model file"), {},
      tr("Model files (*.gguf *.bin);;GGUF (*.gguf);;llama2.c checkpoints (*.bin);;All files (*)"));
  if (file.isEmpty()) return;
  // A GGUF file carries its tokenizer; a llama2.c checkpoint's lies beside it.
  openModel(file, file.endsWith(".gguf", Qt::CaseInsensitive) ? QString()
                                                              : guessLlama2cTokenizer(file));
}

void MainWindow::onModelLoaded() {
  const ModelSummary s = host_->summary();
  modelPanel_->onModelLoaded(s);
  modelPanel_->setRecent(RecentModels::add({loadingPath_, loadingTokenizer_}));
  loadingPath_.clear();
  if (session_->results().empty()) session_->setModel(host_->identity());
  promptPanel_->taskPicker()->setMaxWords(std::max<qint64>(1, s.context - 1));  // BOS
  promptPanel_->imageSlot()->setPatchGrid(int(s.imagePatchGrid));
  generatePanel_->setModelShape(int(s.layers), int(s.dMlp));
  statusLabel_->setText(s.hasTokenizer ? tr("Loaded %1 (%2).").arg(s.path, s.family)
                                       : tr("Loaded %1, but it has no tokenizer: reopen it with "
                                            "--tokenizer PATH.")
                                             .arg(s.path));
  promptPanel_->setPredictions({});
  onPromptChanged(promptPanel_->prompt());
  updatePage();
  updateTitle();
  updateState();
}

void MainWindow::onPromptChanged(const QString& text) {
  promptPanel_->setTokens(host_->tokenize(text));
}

void MainWindow::onRun() {
  if (host_->hasModel() && !host_->busy()) {
    statusLabel_->setText(tr("Running…"));
    host_->predict(promptPanel_->prompt(), promptPanel_->topK(), promptPanel_->image());
  }
}

void MainWindow::onGenerate() {
  if (!host_->hasModel() || host_->busy()) return;
  std::shared_ptr<HookSet> hooks;
  if (const auto clamp = generatePanel_->clamp()) {
    hooks = std::make_shared<HookSet>();
    probes::add_neuron_clamp(*hooks, clamp->layer, clamp->neuron, clamp->value, "all");
  }
  host_->generate(promptPanel_->prompt(), generatePanel_->tokenCount(), hooks);
}

void MainWindow::onCancel() {
  if (fileJob_->running()) {
    fileJob_->cancel();
    statusLabel_->setText(tr("Cancelling…"));
    return;
  }
  if (!host_->cancellable()) return;
  host_->cancel();
  statusLabel_->setText(tr("Cancelling…"));
}

bool MainWindow::runAttention() { return probes_->runAttention(); }

void MainWindow::onProbeFinished(const Result& result) {
  hideProgress();
  std::shared_ptr<const Result> stored = session_->addResult(result);
  session_->setModel(host_->identity());
  session_->addPrompt(probes_->lastInputs());
  results_->addResult(*stored);
  analysis_->addResult(stored);
  const QString id = QString::fromStdString(stored->id);
  selectResult(id);
  updatePage();
  statusLabel_->setText(tr("%1 is ready.").arg(QString::fromStdString(stored->title)));
  emit resultAdded(id);
}

QString MainWindow::selectedResultId() const { return analysis_->currentId(); }

void MainWindow::selectResult(const QString& id) {
  results_->select(id);
  analysis_->showResult(id);  // also when the browser's selection did not change
}

void MainWindow::deleteResult(const QString& id) {
  const QStringList ids = results_->ids();
  const int index = ids.indexOf(id);
  if (index < 0) return;
  const bool shown = selectedResultId() == id;
  session_->removeResult(id);
  results_->removeResult(id);
  analysis_->removeResult(id);
  if (shown) selectResult(ids.value(index + 1, ids.value(index - 1)));
  statusLabel_->setText(tr("Deleted %1.").arg(id));
}

void MainWindow::setUnsavedChangesAnswer(QMessageBox::StandardButton answer) {
  session_->setUnsavedChangesAnswer(answer);
}

void MainWindow::showProgress(int value, int maximum, const QString& format) {
  progress_->setRange(0, maximum);
  progress_->setValue(value);
  progress_->setFormat(format);
  progress_->show();
  cancelButton_->show();
}

void MainWindow::hideProgress() {
  progress_->hide();
  cancelButton_->hide();
}

void MainWindow::updateState() {
  const bool ready = host_->hasModel() && !host_->busy();
  promptPanel_->setRunEnabled(ready);
  generatePanel_->setState(ready, host_->generating());
  run_->setEnabled(ready);
  generate_->setEnabled(ready);
  cancel_->setEnabled(host_->cancellable() || fileJob_->running());
  for (QAction* action : fileActions_) action->setEnabled(!fileJob_->running());
  openFolder_->setEnabled(!host_->busy());
  openFile_->setEnabled(!host_->busy());
  spliceSae_->setEnabled(host_->hasModel() && !host_->busy());
  trainSae_->setEnabled(host_->hasModel());
  removeSae_->setEnabled(host_->hasModel() && !host_->busy() &&
                        host_->model()->standing_hooks() != nullptr);
  const QString sessionModel = jsonText(session_->model(), "path");
  openSessionModel_->setEnabled(!host_->busy() && !sessionModel.isEmpty() &&
                                QFileInfo::exists(sessionModel) &&
                                sessionModel != jsonText(host_->identity(), "path"));
  if (probes_) probes_->updateState();
}

void MainWindow::updateTitle() {
  const QString model = jsonText(host_->identity(), "name");
  QString title = session_->displayName() + QStringLiteral("[*]");
  if (!model.isEmpty()) title += QStringLiteral(" — ") + model;
  setWindowTitle(title + QStringLiteral(" — mechscope"));
  setWindowModified(session_->isDirty());
}

void MainWindow::updatePage() {
  const bool work =
      host_->hasModel() || !session_->results().empty() || !session_->path().isEmpty();
  pages_->setCurrentIndex(work ? 1 : 0);
}

void MainWindow::showError(const QString& title, const QString& message) {
  statusLabel_->setText(title);
  emit errorShown(message);
  if (!errorDialogs_) return;
  auto* box = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
  box->setObjectName("errorBox");
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // window-modal but does not block the event loop
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (fileJob_->running()) {  // a file operation first finishes or is cancelled
    statusLabel_->setText(tr("Wait for the file operation to finish, or cancel it (Esc)."));
    event->ignore();
    return;
  }
  if (session_->maybeSave(this))
    event->accept();
  else
    event->ignore();
}

}  // namespace mechscope
