#pragma once
// The workbench window: wires the model and results docks, the prompt and generation panels, the
// analysis area (one view per Result), the Probes menu and the session (File menu) together.
// Panels live in their own files; this one only connects them. The session slots (new, open,
// save, export, the saved window state) are in main_window_session.cpp.
#include <QMainWindow>
#include <QList>
#include <QMessageBox>
#include <nlohmann/json.hpp>
#include "core/model/weight_processing.h"

class QDockWidget;
class QLabel;
class QProgressBar;
class QSplitter;
class QStackedWidget;
class QToolButton;

namespace mechscope {

class AnalysisArea;
class FileJob;
class SessionRecovery;
struct Session;
class GeneratePanel;
class ModelHost;
class ModelPanel;
class ProbeActions;
class PromptPanel;
class ResultsBrowser;
class SessionController;
struct Result;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);

  ModelHost* host() const { return host_; }
  ModelPanel* modelPanel() const { return modelPanel_; }
  PromptPanel* promptPanel() const { return promptPanel_; }
  GeneratePanel* generatePanel() const { return generatePanel_; }
  ResultsBrowser* resultsBrowser() const { return results_; }
  AnalysisArea* analysisArea() const { return analysis_; }
  SessionController* session() const { return session_; }
  FileJob* fileJob() const { return fileJob_; }
  SessionRecovery* recovery() const { return recovery_; }
  ProbeActions* probeActions() const { return probes_; }
  QDockWidget* modelDock() const { return modelDock_; }
  QDockWidget* resultsDock() const { return resultsDock_; }
  /// The Result shown in the analysis area (empty when none).
  QString selectedResultId() const;
  /// Error dialogs are non-modal-blocking (QMessageBox::open), so tests can observe and close them.
  void setErrorDialogsEnabled(bool enabled) { errorDialogs_ = enabled; }
  /// Answers "Save / Discard / Cancel?" about unsaved changes without asking (NoButton: ask).
  void setUnsavedChangesAnswer(QMessageBox::StandardButton answer);

  /// views["workbench"] of the session: selected result, prompt panel texts, visible docks/page.
  nlohmann::json workbenchState() const;
  void applyWorkbenchState(const nlohmann::json& state);

  /// Width in pixels of exported figures (PDF: 0.75 pt per pixel).
  static constexpr int kExportWidth = 1600;

 public slots:
  /// Opens a model in the background; `tokenizer` may be empty.
  void openModel(const QString& path, const QString& tokenizer = {});
  /// The weight processing models are opened with (the model panel's choice).
  void setWeightProcessing(const WeightProcessing& processing);
  void onOpenModelFolder();
  void onOpenLlama2cFile();
  void onRun();
  void onGenerate();
  void onCancel();
  /// Attention maps of the prompt, in the background; the Result is added when it is ready.
  bool runAttention();
  /// Shows a Result (selects it in the browser and the analysis area).
  void selectResult(const QString& id);
  void deleteResult(const QString& id);
  /// Reports an error: emits errorShown() and shows a message box naming the problem.
  void showError(const QString& title, const QString& message);

  // Sessions (main_window_session.cpp). Each returns false when it did not happen (cancelled at
  // the unsaved-changes question, or failed with an error shown).
  bool newSession();
  bool openSession(const QString& path);
  /// Offers the newest autosaved copy an instance that did not exit cleanly left behind
  /// (SessionRecovery::pending): Recover opens it as unsaved work. True when recovered.
  bool offerRecovery();
  /// Answers the recovery question without asking (Open = recover, Discard, Cancel = not now).
  void setRecoveryAnswer(QMessageBox::StandardButton answer) { recoveryAnswer_ = answer; }
  bool saveSession();
  bool saveSessionAs(const QString& path);
  /// Every Result's figure as PNG, SVG and PDF into `dir` (export_session).
  bool exportAllFigures(const QString& dir);
  /// One Result's figure into `file`; the format follows its suffix (.png, .svg, .pdf).
  bool exportFigure(const QString& id, QString file);
  void onOpenSession();
  void onSaveSessionAs();
  void onExportAllFigures();
  void onExportFigure(const QString& id);
  void onOpenSessionModel();
  /// Model ▸ Splice SAE…: the SaeSpliceDialog, then ModelHost::spliceSae.
  void onSpliceSae();

 signals:
  void errorShown(const QString& message);
  /// A probe's Result was added to the session (and shown).
  void resultAdded(const QString& id);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createActions();
  void createDocks();
  void createStatusBar();
  void connectHost();
  void connectFileJob();
  QWidget* createEmptyPage();
  QWidget* createWorkspace();
  void updateState();
  void updateTitle();
  void updatePage();
  void onModelLoaded();
  void onPromptChanged(const QString& text);
  void onProbeFinished(const Result& result);
  void showProgress(int value, int maximum, const QString& format);
  void hideProgress();
  /// Puts the session's Results (with their saved view states) into the browser and views.
  void showSessionResults(const nlohmann::json& views);
  /// Reads a session file as a file job; false (error shown, or cancelled) when it fails.
  bool readSession(const QString& path, Session& out);
  /// Shows the session just adopted: results, prompt, window state.
  void showOpenedSession(const nlohmann::json& views);

  ModelHost* host_;
  SessionController* session_;
  FileJob* fileJob_;  // session open/save and figure export, off the GUI thread
  SessionRecovery* recovery_;  // autosave of unsaved work, offered back after a crash
  QMessageBox::StandardButton recoveryAnswer_ = QMessageBox::NoButton;
  ModelPanel* modelPanel_ = nullptr;
  PromptPanel* promptPanel_ = nullptr;
  GeneratePanel* generatePanel_ = nullptr;
  ResultsBrowser* results_ = nullptr;
  AnalysisArea* analysis_ = nullptr;
  ProbeActions* probes_ = nullptr;
  QDockWidget* modelDock_ = nullptr;
  QDockWidget* resultsDock_ = nullptr;
  QStackedWidget* pages_ = nullptr;
  QSplitter* workspace_ = nullptr;
  QSplitter* inputs_ = nullptr;
  QLabel* statusLabel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QToolButton* cancelButton_ = nullptr;
  QAction* openFolder_ = nullptr;
  QAction* openFile_ = nullptr;
  QAction* openSessionModel_ = nullptr;
  QAction* spliceSae_ = nullptr;
  QAction* removeSae_ = nullptr;
  QAction* trainSae_ = nullptr;  // Model ▸ Train SAE… (SaeTrainDialog)
  QAction* run_ = nullptr;
  QAction* generate_ = nullptr;
  QAction* cancel_ = nullptr;
  QList<QAction*> fileActions_;
  QString loadingPath_, loadingTokenizer_;  // the load in flight, for the recent list
  bool errorDialogs_ = true;
  bool restoring_ = false;  // applying a saved state: the edits are not the user's
};

}  // namespace mechscope
