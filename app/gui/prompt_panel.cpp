#include "app/gui/prompt_panel.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include "app/gui/image_slot.h"
#include "app/gui/task_picker.h"

#include <algorithm>

namespace mechscope {

PromptPanel::PromptPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);

  picker_ = new TaskPicker(this);
  picker_->setObjectName("taskPicker");
  layout->addWidget(picker_);

  auto* promptLabel = new QLabel(tr("<b>Prompt</b>"), this);
  layout->addWidget(promptLabel);
  prompt_ = new QPlainTextEdit(this);
  prompt_->setObjectName("promptEdit");
  prompt_->setPlaceholderText(tr("Type a prompt, then Run (Ctrl+Enter)…"));
  prompt_->setMaximumHeight(110);
  prompt_->installEventFilter(this);
  layout->addWidget(prompt_);
  image_ = new ImageSlot(this);
  image_->setObjectName("imageSlot");
  image_->setVisible(false);
  layout->addWidget(image_);
  buildPatchingInputs(layout);

  tokenCount_ = new QLabel(tr("Tokens"), this);
  tokenCount_->setObjectName("tokenCount");
  layout->addWidget(tokenCount_);
  chips_ = new TokenChips(this);
  chips_->setObjectName("tokenChips");
  chips_->setPlaceholderText(tr("The prompt's tokens appear here as you type."));
  auto* chipsScroll = new QScrollArea(this);
  chipsScroll->setWidget(chips_);
  chipsScroll->setWidgetResizable(true);
  chipsScroll->setFrameShape(QFrame::StyledPanel);
  chipsScroll->setMinimumHeight(chips_->minimumSizeHint().height() * 2 + 8);
  chipsScroll->setMaximumHeight(180);
  layout->addWidget(chipsScroll);

  auto* runRow = new QHBoxLayout();
  run_ = new QPushButton(tr("Run ▶"), this);
  run_->setObjectName("runButton");
  run_->setToolTip(tr("Forward pass: top-k next-token predictions (Ctrl+Enter)"));
  run_->setEnabled(false);
  runRow->addWidget(run_);
  runRow->addWidget(new QLabel(tr("top-k"), this));
  k_ = new QSpinBox(this);
  k_->setObjectName("topKSpin");
  k_->setRange(1, 100);
  k_->setValue(10);
  runRow->addWidget(k_);
  runRow->addStretch(1);
  layout->addLayout(runRow);

  predictionsTitle_ = new QLabel(tr("<b>Next-token predictions</b>"), this);
  layout->addWidget(predictionsTitle_);
  predictions_ = new PredictionsView(this);
  predictions_->setObjectName("predictionsView");
  predictions_->setPlaceholderText(tr("Run the model to see its next-token predictions."));
  layout->addWidget(predictions_, 1);

  connect(prompt_, &QPlainTextEdit::textChanged, this, [this] {
    emit promptChanged(prompt_->toPlainText());
    emit inputsEdited();
  });
  connect(corrupt_, &QPlainTextEdit::textChanged, this, &PromptPanel::inputsEdited);
  connect(answer_, &QLineEdit::textChanged, this, &PromptPanel::inputsEdited);
  connect(picker_, &TaskPicker::exampleReady, this, &PromptPanel::onExample);
  connect(picker_, &TaskPicker::exampleImage, this, [this](const QImage& image) {
    if (!image.isNull() || image_->hasImage()) image_->setImage(image, tr("task example"));
  });
  connect(image_, &ImageSlot::imageChanged, this, [this] {
    setTokens(tokens_);
    emit inputsEdited();
  });
  connect(run_, &QPushButton::clicked, this, &PromptPanel::runRequested);
}

void PromptPanel::buildPatchingInputs(QVBoxLayout* layout) {
  patchingToggle_ = new QToolButton(this);
  patchingToggle_->setObjectName("patchingToggle");
  patchingToggle_->setText(tr("Patching inputs"));
  patchingToggle_->setToolTip(
      tr("A corrupted prompt (same number of tokens) and the answer, for probes that compare a "
         "clean and a corrupted run"));
  patchingToggle_->setCheckable(true);
  patchingToggle_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  patchingToggle_->setArrowType(Qt::RightArrow);
  patchingToggle_->setAutoRaise(true);
  layout->addWidget(patchingToggle_);

  patching_ = new QWidget(this);
  patching_->setObjectName("patchingInputs");
  auto* form = new QFormLayout(patching_);
  form->setContentsMargins(16, 0, 0, 0);
  corrupt_ = new QPlainTextEdit(patching_);
  corrupt_->setObjectName("corruptEdit");
  corrupt_->setPlaceholderText(tr("Optional: the prompt with the key tokens changed"));
  corrupt_->setMaximumHeight(64);
  form->addRow(tr("Corrupted"), corrupt_);
  answer_ = new QLineEdit(patching_);
  answer_->setObjectName("answerEdit");
  answer_->setPlaceholderText(tr("Optional: the expected next token(s)"));
  form->addRow(tr("Answer"), answer_);
  wrong_ = new QLineEdit(patching_);
  wrong_->setObjectName("wrongEdit");
  wrong_->setPlaceholderText(tr("Optional: a wrong answer, for logit[answer] − logit[wrong]"));
  form->addRow(tr("Wrong answer"), wrong_);
  connect(wrong_, &QLineEdit::textChanged, this, &PromptPanel::inputsEdited);
  patching_->setVisible(false);
  layout->addWidget(patching_);
  connect(patchingToggle_, &QToolButton::toggled, this, [this](bool open) {
    patching_->setVisible(open);
    patchingToggle_->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
  });
}

void PromptPanel::onExample(const QString& prompt, const QString& corrupt, const QString& answer,
                            const QString& wrong) {
  setWrongAnswer(wrong);
  setPrompt(prompt);
  setCorruptPrompt(corrupt);
  setAnswer(answer);
  if (!corrupt.isEmpty() || !answer.isEmpty()) setPatchingInputsVisible(true);
}

QString PromptPanel::prompt() const { return prompt_->toPlainText(); }

void PromptPanel::setPrompt(const QString& text) {
  if (text != prompt_->toPlainText()) prompt_->setPlainText(text);
}

QString PromptPanel::corruptPrompt() const { return corrupt_->toPlainText(); }

void PromptPanel::setCorruptPrompt(const QString& text) {
  if (text != corrupt_->toPlainText()) corrupt_->setPlainText(text);
}

QString PromptPanel::answer() const { return answer_->text(); }

void PromptPanel::setAnswer(const QString& text) { answer_->setText(text); }

QString PromptPanel::wrongAnswer() const { return wrong_->text(); }

void PromptPanel::setWrongAnswer(const QString& text) { wrong_->setText(text); }

bool PromptPanel::patchingInputsVisible() const { return patchingToggle_->isChecked(); }

void PromptPanel::setPatchingInputsVisible(bool visible) { patchingToggle_->setChecked(visible); }

RgbImage PromptPanel::image() const {
  return image_->patchGrid() > 0 ? image_->rgb() : RgbImage();
}

int PromptPanel::topK() const { return k_->value(); }

void PromptPanel::setTokens(const QVector<TokenChip>& tokens) {
  tokens_ = tokens;
  QVector<TokenChip> shown = tokens;
  const bool hasChip =
      std::any_of(shown.begin(), shown.end(), [](const TokenChip& c) { return c.image_patches > 0; });
  if (image_->hasImage() && !hasChip && image_->patchGrid() > 0) {
    TokenChip chip;
    chip.text = QStringLiteral("<image>");
    chip.special = true;
    chip.image_patches = image_->patchGrid() * image_->patchGrid();
    shown.insert(!shown.isEmpty() && shown.front().special ? 1 : 0, chip);
  }
  int positions = 0;
  for (const TokenChip& c : shown) positions += std::max(1, c.image_patches);
  chips_->setTokens(shown);
  tokenCount_->setText(positions == 1 ? tr("1 token") : tr("%1 tokens").arg(positions));
}

void PromptPanel::setPredictions(const QVector<PredictionRow>& rows) {
  predictions_->setPredictions(rows);
}

void PromptPanel::setRunEnabled(bool enabled) { run_->setEnabled(enabled); }

bool PromptPanel::eventFilter(QObject* watched, QEvent* event) {
  // Ctrl+Enter in the prompt runs instead of inserting a newline.
  if (watched == prompt_ && event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter) &&
        (key->modifiers() & Qt::ControlModifier)) {
      if (run_->isEnabled()) emit runRequested();
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace mechscope
