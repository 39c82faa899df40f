#pragma once
// Greedy generation: how many tokens, Generate / Cancel, and the streamed output.
#include <QWidget>

class QPushButton;
class QSpinBox;
class QTextEdit;

namespace mechscope {

class GeneratePanel : public QWidget {
  Q_OBJECT

 public:
  explicit GeneratePanel(QWidget* parent = nullptr);

  int tokenCount() const;
  void setTokenCount(int n);
  /// The generated text so far (without the prompt).
  QString continuation() const { return continuation_; }
  QTextEdit* output() const { return output_; }
  QPushButton* generateButton() const { return generate_; }
  QPushButton* cancelButton() const { return cancel_; }

 public slots:
  /// Generate is enabled when a model is open and idle; Cancel while generating.
  void setState(bool canGenerate, bool generating);
  void onGenerationStarted(const QString& prompt);
  void onGenerationProgress(const QString& continuation);
  void onGenerationFinished(const QString& continuation, bool cancelled);

 signals:
  void generateRequested(int maxNewTokens);
  void cancelRequested();

 private:
  void showText(const QString& suffix = {});

  QSpinBox* tokens_;
  QPushButton* generate_;
  QPushButton* cancel_;
  QTextEdit* output_;
  QString prompt_;
  QString continuation_;
};

}  // namespace mechscope
