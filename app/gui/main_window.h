#pragma once
// The workbench window: wires the model panel (dock), the prompt and generation panels and the
// background model host together. Panels live in their own files; this one only connects them.
#include <QMainWindow>

class QLabel;
class QProgressBar;
class QStackedWidget;

namespace mechscope {

class GeneratePanel;
class ModelHost;
class ModelPanel;
class PromptPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);

  ModelHost* host() const { return host_; }
  ModelPanel* modelPanel() const { return modelPanel_; }
  PromptPanel* promptPanel() const { return promptPanel_; }
  GeneratePanel* generatePanel() const { return generatePanel_; }
  /// Error dialogs are non-modal-blocking (QMessageBox::open), so tests can observe and close them.
  void setErrorDialogsEnabled(bool enabled) { errorDialogs_ = enabled; }

 public slots:
  /// Opens a model in the background; `tokenizer` may be empty.
  void openModel(const QString& path, const QString& tokenizer = {});
  void onOpenModelFolder();
  void onOpenLlama2cFile();
  void onRun();
  void onGenerate();
  void onCancel();
  /// Reports an error: emits errorShown() and shows a message box naming the problem.
  void showError(const QString& title, const QString& message);

 signals:
  void errorShown(const QString& message);

 private:
  void createActions();
  QWidget* createEmptyPage();
  void updateState();
  void onModelLoaded();
  void onPromptChanged(const QString& text);

  ModelHost* host_;
  ModelPanel* modelPanel_ = nullptr;
  PromptPanel* promptPanel_ = nullptr;
  GeneratePanel* generatePanel_ = nullptr;
  QStackedWidget* pages_ = nullptr;
  QLabel* statusLabel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QAction* openFolder_ = nullptr;
  QAction* openFile_ = nullptr;
  QAction* run_ = nullptr;
  QAction* generate_ = nullptr;
  QAction* cancel_ = nullptr;
  QString loadingPath_, loadingTokenizer_;  // the load in flight, for the recent list
  bool errorDialogs_ = true;
};

}  // namespace mechscope
