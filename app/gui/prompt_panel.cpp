#include "app/gui/prompt_panel.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

namespace mechscope {

PromptPanel::PromptPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);

  auto* promptLabel = new QLabel(tr("<b>Prompt</b>"), this);
  layout->addWidget(promptLabel);
  prompt_ = new QPlainTextEdit(this);
  prompt_->setObjectName("promptEdit");
  prompt_->setPlaceholderText(tr("Type a prompt, then Run (Ctrl+Enter)…"));
  prompt_->setMaximumHeight(110);
  prompt_->installEventFilter(this);
  layout->addWidget(prompt_);

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

  connect(prompt_, &QPlainTextEdit::textChanged, this,
          [this] { emit promptChanged(prompt_->toPlainText()); });
  connect(run_, &QPushButton::clicked, this, &PromptPanel::runRequested);
}

QString PromptPanel::prompt() const { return prompt_->toPlainText(); }

void PromptPanel::setPrompt(const QString& text) { prompt_->setPlainText(text); }

int PromptPanel::topK() const { return k_->value(); }

void PromptPanel::setTokens(const QVector<TokenChip>& tokens) {
  chips_->setTokens(tokens);
  tokenCount_->setText(tokens.size() == 1 ? tr("1 token") : tr("%1 tokens").arg(tokens.size()));
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
