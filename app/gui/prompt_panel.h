#pragma once
// The prompt, its live tokenisation as chips, the Run button and the top-k predictions.
#include <QWidget>

#include "views/predictions_view.h"
#include "views/token_chips.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace mechscope {

class PromptPanel : public QWidget {
  Q_OBJECT

 public:
  explicit PromptPanel(QWidget* parent = nullptr);

  QString prompt() const;
  void setPrompt(const QString& text);
  int topK() const;
  QPlainTextEdit* promptEdit() const { return prompt_; }
  TokenChips* chips() const { return chips_; }
  PredictionsView* predictions() const { return predictions_; }
  QPushButton* runButton() const { return run_; }

 public slots:
  void setTokens(const QVector<mechscope::TokenChip>& tokens);
  void setPredictions(const QVector<mechscope::PredictionRow>& rows);
  /// Run is enabled when a model is open and no job is running.
  void setRunEnabled(bool enabled);

 signals:
  void promptChanged(const QString& text);
  void runRequested();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QPlainTextEdit* prompt_;
  QLabel* tokenCount_;
  TokenChips* chips_;
  QPushButton* run_;
  QSpinBox* k_;
  QLabel* predictionsTitle_;
  PredictionsView* predictions_;
};

}  // namespace mechscope
