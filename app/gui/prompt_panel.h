#pragma once
// The prompt, its live tokenisation as chips, the Run button and the top-k predictions; a task
// picker that fills in examples, and a collapsible "Patching inputs" section (corrupted prompt,
// answer token) for probes that compare a clean and a corrupted run.
#include <QWidget>

#include "core/image/image_file.h"
#include "views/predictions_view.h"
#include "views/token_chips.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QToolButton;
class QVBoxLayout;

namespace mechscope {

class ImageSlot;
class TaskPicker;

class PromptPanel : public QWidget {
  Q_OBJECT

 public:
  explicit PromptPanel(QWidget* parent = nullptr);

  QString prompt() const;
  void setPrompt(const QString& text);
  /// The corrupted prompt (empty when none).
  QString corruptPrompt() const;
  void setCorruptPrompt(const QString& text);
  /// The expected answer (empty when none).
  QString answer() const;
  void setAnswer(const QString& text);
  /// The wrong answer a logit difference compares against (e.g. the corrupted prompt's answer).
  QString wrongAnswer() const;
  void setWrongAnswer(const QString& text);
  /// Whether the "Patching inputs" section is expanded.
  bool patchingInputsVisible() const;
  void setPatchingInputsVisible(bool visible);
  int topK() const;
  TaskPicker* taskPicker() const { return picker_; }
  QPlainTextEdit* corruptEdit() const { return corrupt_; }
  QLineEdit* answerEdit() const { return answer_; }
  QLineEdit* wrongEdit() const { return wrong_; }
  QToolButton* patchingToggle() const { return patchingToggle_; }
  QPlainTextEdit* promptEdit() const { return prompt_; }
  TokenChips* chips() const { return chips_; }
  /// The image input (shown for vision-language models, or when an image is set).
  ImageSlot* imageSlot() const { return image_; }
  /// The image for the open model: the slot's image when the model reads images, else empty.
  RgbImage image() const;
  PredictionsView* predictions() const { return predictions_; }
  QPushButton* runButton() const { return run_; }

 public slots:
  /// The prompt's tokens; with an image but no image token in the text, an image chip after BOS
  /// shows where the probes put the image.
  void setTokens(const QVector<mechscope::TokenChip>& tokens);
  void setPredictions(const QVector<mechscope::PredictionRow>& rows);
  /// Run is enabled when a model is open and no job is running.
  void setRunEnabled(bool enabled);

 signals:
  void promptChanged(const QString& text);
  /// The prompt, corrupted prompt or answer changed (typed, or set from code).
  void inputsEdited();
  void runRequested();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void buildPatchingInputs(QVBoxLayout* layout);
  void onExample(const QString& prompt, const QString& corrupt, const QString& answer,
                 const QString& wrong);

  TaskPicker* picker_;
  QPlainTextEdit* prompt_;
  ImageSlot* image_;
  QVector<TokenChip> tokens_;  // as the host tokenised the prompt (setTokens)
  QToolButton* patchingToggle_ = nullptr;
  QWidget* patching_ = nullptr;
  QPlainTextEdit* corrupt_ = nullptr;
  QLineEdit* answer_ = nullptr;
  QLineEdit* wrong_ = nullptr;
  QLabel* tokenCount_;
  TokenChips* chips_;
  QPushButton* run_;
  QSpinBox* k_;
  QLabel* predictionsTitle_;
  PredictionsView* predictions_;
};

}  // namespace mechscope
