#include "app/gui/main_window.h"

#include <QAction>
#include <QApplication>
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
#include <QVBoxLayout>

#include "app/gui/generate_panel.h"
#include "app/gui/model_host.h"
#include "app/gui/model_panel.h"
#include "app/gui/prompt_panel.h"
#include "app/gui/recent_models.h"

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

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), host_(new ModelHost(this)) {
  setWindowTitle(tr("mechscope"));
  createActions();

  modelPanel_ = new ModelPanel(openFolder_, openFile_, this);
  modelPanel_->setRecent(RecentModels::load());
  auto* dock = new QDockWidget(tr("Model"), this);
  dock->setObjectName("modelDock");
  dock->setWidget(modelPanel_);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
  addDockWidget(Qt::LeftDockWidgetArea, dock);

  promptPanel_ = new PromptPanel(this);
  generatePanel_ = new GeneratePanel(this);
  auto* workspace = new QSplitter(Qt::Horizontal, this);
  workspace->addWidget(promptPanel_);
  workspace->addWidget(generatePanel_);
  workspace->setStretchFactor(0, 3);
  workspace->setStretchFactor(1, 2);
  pages_ = new QStackedWidget(this);
  pages_->addWidget(createEmptyPage());
  pages_->addWidget(workspace);
  setCentralWidget(pages_);

  statusLabel_ = new QLabel(tr("Open a model to start."), this);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(240);
  progress_->setFormat(tr("%v / %m tokens"));
  progress_->hide();
  statusBar()->addWidget(statusLabel_, 1);
  statusBar()->addPermanentWidget(progress_);

  connect(modelPanel_, &ModelPanel::recentActivated, this, &MainWindow::openModel);
  connect(promptPanel_, &PromptPanel::promptChanged, this, &MainWindow::onPromptChanged);
  connect(promptPanel_, &PromptPanel::runRequested, this, &MainWindow::onRun);
  connect(generatePanel_, &GeneratePanel::generateRequested, this, &MainWindow::onGenerate);
  connect(generatePanel_, &GeneratePanel::cancelRequested, this, &MainWindow::onCancel);

  connect(host_, &ModelHost::busyChanged, this, &MainWindow::updateState);
  connect(host_, &ModelHost::loadStarted, modelPanel_, &ModelPanel::onLoadStarted);
  connect(host_, &ModelHost::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(host_, &ModelHost::predictionsReady, this, [this](const QVector<PredictionRow>& rows) {
    promptPanel_->setPredictions(rows);
    if (!rows.isEmpty())
      statusLabel_->setText(tr("Top prediction: \"%1\" (%2)")
                                .arg(rows.front().text,
                                     PredictionsView::formatProbability(rows.front().probability)));
  });
  connect(host_, &ModelHost::generationStarted, this, [this](int total) {
    generatePanel_->onGenerationStarted(promptPanel_->prompt());
    progress_->setRange(0, total);
    progress_->setValue(0);
    progress_->show();
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
            progress_->hide();
            statusLabel_->setText(cancelled
                                      ? tr("Generation cancelled after %1 tokens.").arg(generated)
                                      : tr("Generated %1 tokens.").arg(generated));
          });
  connect(host_, &ModelHost::failed, this, [this](const QString& title, const QString& message) {
    if (!loadingPath_.isEmpty()) {  // a failed load leaves the previous model (if any) open
      loadingPath_.clear();
      if (host_->hasModel())
        modelPanel_->onModelLoaded(host_->summary());
      else
        modelPanel_->onLoadFailed();
    }
    progress_->hide();
    showError(title, message);
  });

  updateState();
  resize(1280, 800);
}

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  openFolder_ = file->addAction(tr("Open model &folder…"), this, &MainWindow::onOpenModelFolder);
  openFolder_->setShortcut(QKeySequence::Open);
  openFolder_->setToolTip(tr("A Hugging Face folder: config.json, *.safetensors, tokenizer.json"));
  openFile_ = file->addAction(tr("Open &llama2.c file…"), this, &MainWindow::onOpenLlama2cFile);
  file->addSeparator();
  file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows)
      ->setShortcut(QKeySequence::Quit);

  QMenu* model = menuBar()->addMenu(tr("&Model"));
  run_ = model->addAction(tr("&Run"), this, &MainWindow::onRun);
  run_->setShortcuts(
      {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
  generate_ = model->addAction(tr("&Generate"), this, &MainWindow::onGenerate);
  generate_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return));
  cancel_ = model->addAction(tr("&Cancel"), this, &MainWindow::onCancel);
  cancel_->setShortcut(QKeySequence(Qt::Key_Escape));
}

QWidget* MainWindow::createEmptyPage() {
  auto* page = new QWidget(this);
  page->setObjectName("emptyPage");
  auto* layout = new QVBoxLayout(page);
  layout->addStretch(1);
  auto* title = new QLabel(tr("<h2>Open a model…</h2>"
                              "<p>A Hugging Face folder (config.json + safetensors) or a "
                              "llama2.c <tt>.bin</tt> checkpoint.<br>From the command line: "
                              "<tt>mechscope --model PATH [--tokenizer PATH]</tt></p>"),
                           page);
  title->setAlignment(Qt::AlignCenter);
  layout->addWidget(title);
  for (QAction* action : {openFolder_, openFile_}) {
    auto* button = new QPushButton(action->text(), page);
    connect(button, &QPushButton::clicked, action, &QAction::trigger);
    layout->addWidget(button, 0, Qt::AlignHCenter);
  }
  layout->addStretch(2);
  return page;
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
      this, tr("Open llama2.c checkpoint"), {}, tr("llama2.c checkpoints (*.bin);;All files (*)"));
  if (!file.isEmpty()) openModel(file, guessLlama2cTokenizer(file));
}

void MainWindow::onModelLoaded() {
  const ModelSummary s = host_->summary();
  modelPanel_->onModelLoaded(s);
  modelPanel_->setRecent(RecentModels::add({loadingPath_, loadingTokenizer_}));
  loadingPath_.clear();
  pages_->setCurrentIndex(1);
  setWindowTitle(tr("%1 — mechscope").arg(QFileInfo(s.path).fileName()));
  statusLabel_->setText(s.hasTokenizer ? tr("Loaded %1 (%2).").arg(s.path, s.family)
                                       : tr("Loaded %1, but it has no tokenizer: reopen it with "
                                            "--tokenizer PATH.")
                                             .arg(s.path));
  promptPanel_->setPredictions({});
  onPromptChanged(promptPanel_->prompt());
  updateState();
}

void MainWindow::onPromptChanged(const QString& text) {
  promptPanel_->setTokens(host_->tokenize(text));
}

void MainWindow::onRun() {
  if (host_->hasModel() && !host_->busy()) {
    statusLabel_->setText(tr("Running…"));
    host_->predict(promptPanel_->prompt(), promptPanel_->topK());
  }
}

void MainWindow::onGenerate() {
  if (host_->hasModel() && !host_->busy())
    host_->generate(promptPanel_->prompt(), generatePanel_->tokenCount());
}

void MainWindow::onCancel() { host_->cancel(); }

void MainWindow::updateState() {
  const bool ready = host_->hasModel() && !host_->busy();
  promptPanel_->setRunEnabled(ready);
  generatePanel_->setState(ready, host_->generating());
  run_->setEnabled(ready);
  generate_->setEnabled(ready);
  cancel_->setEnabled(host_->generating());
  openFolder_->setEnabled(!host_->busy());
  openFile_->setEnabled(!host_->busy());
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

}  // namespace mechscope
