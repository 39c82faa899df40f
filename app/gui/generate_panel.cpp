#include "app/gui/generate_panel.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTextEdit>
#include <QVBoxLayout>

namespace mechscope {

GeneratePanel::GeneratePanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("<b>Generate</b> (greedy)"), this));

  auto* row = new QHBoxLayout();
  row->addWidget(new QLabel(tr("New tokens"), this));
  tokens_ = new QSpinBox(this);
  tokens_->setObjectName("tokensSpin");
  tokens_->setRange(1, 100000);
  tokens_->setValue(64);
  row->addWidget(tokens_);
  generate_ = new QPushButton(tr("Generate"), this);
  generate_->setObjectName("generateButton");
  generate_->setToolTip(tr("Greedy continuation of the prompt (Ctrl+Shift+Enter)"));
  row->addWidget(generate_);
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName("cancelButton");
  cancel_->setToolTip(tr("Stop the generation (Esc)"));
  row->addWidget(cancel_);
  row->addStretch(1);
  layout->addLayout(row);

  // Steering by one neuron: neuron_decoding says what it promotes; hold it and watch the text.
  auto* clampRow = new QHBoxLayout();
  clampBox_ = new QCheckBox(tr("Clamp neuron"), this);
  clampBox_->setObjectName("clampBox");
  clampBox_->setToolTip(tr("Hold one MLP neuron (mlp.hook_post) at a value at every position "
                           "while generating"));
  clampRow->addWidget(clampBox_);
  clampRow->addWidget(new QLabel(tr("layer"), this));
  clampLayer_ = new QSpinBox(this);
  clampLayer_->setObjectName("clampLayer");
  clampRow->addWidget(clampLayer_);
  clampRow->addWidget(new QLabel(tr("neuron"), this));
  clampNeuron_ = new QSpinBox(this);
  clampNeuron_->setObjectName("clampNeuron");
  clampRow->addWidget(clampNeuron_);
  clampRow->addWidget(new QLabel(tr("value"), this));
  clampValue_ = new QDoubleSpinBox(this);
  clampValue_->setObjectName("clampValue");
  clampValue_->setRange(-1e6, 1e6);
  clampValue_->setDecimals(3);
  clampValue_->setValue(10.0);
  clampRow->addWidget(clampValue_);
  clampRow->addStretch(1);
  layout->addLayout(clampRow);
  setModelShape(1, 1);

  output_ = new QTextEdit(this);
  output_->setObjectName("generationOutput");
  output_->setReadOnly(true);
  output_->setPlaceholderText(tr("The prompt and its continuation stream in here."));
  layout->addWidget(output_, 1);

  setState(false, false);
  connect(generate_, &QPushButton::clicked, this,
          [this] { emit generateRequested(tokens_->value()); });
  connect(cancel_, &QPushButton::clicked, this, &GeneratePanel::cancelRequested);
}

int GeneratePanel::tokenCount() const { return tokens_->value(); }

std::optional<GeneratePanel::Clamp> GeneratePanel::clamp() const {
  if (!clampBox_->isChecked()) return std::nullopt;
  return Clamp{clampLayer_->value(), clampNeuron_->value(), clampValue_->value()};
}

void GeneratePanel::setClamp(const std::optional<Clamp>& clamp) {
  clampBox_->setChecked(clamp.has_value());
  if (!clamp) return;
  clampLayer_->setValue(clamp->layer);
  clampNeuron_->setValue(clamp->neuron);
  clampValue_->setValue(clamp->value);
}

void GeneratePanel::setModelShape(int layers, int neurons) {
  clampLayer_->setRange(0, std::max(0, layers - 1));
  clampNeuron_->setRange(0, std::max(0, neurons - 1));
}

void GeneratePanel::setTokenCount(int n) { tokens_->setValue(n); }

void GeneratePanel::setState(bool canGenerate, bool generating) {
  generate_->setEnabled(canGenerate && !generating);
  cancel_->setEnabled(generating);
}

void GeneratePanel::onGenerationStarted(const QString& prompt) {
  prompt_ = prompt;
  continuation_.clear();
  showText();
}

void GeneratePanel::onGenerationProgress(const QString& continuation) {
  if (!continuation.startsWith(continuation_)) {  // decoding changed earlier text: redraw all
    continuation_ = continuation;
    showText();
    return;
  }
  // Append only what is new, so long generations stay linear.
  QTextCursor cursor(output_->document());
  cursor.movePosition(QTextCursor::End);
  QTextCharFormat generatedFormat;
  generatedFormat.setForeground(palette().color(QPalette::Text));
  cursor.insertText(continuation.mid(continuation_.size()), generatedFormat);
  continuation_ = continuation;
  output_->setTextCursor(cursor);
  output_->ensureCursorVisible();
}

void GeneratePanel::onGenerationFinished(const QString& continuation, bool cancelled) {
  continuation_ = continuation;
  showText(cancelled ? tr("  [cancelled]") : QString());
}

void GeneratePanel::showText(const QString& suffix) {
  // The prompt in grey, the continuation in the normal text colour.
  output_->clear();
  QTextCursor cursor(output_->document());
  QTextCharFormat promptFormat;
  promptFormat.setForeground(palette().color(QPalette::PlaceholderText));
  cursor.insertText(prompt_, promptFormat);
  QTextCharFormat generatedFormat;
  generatedFormat.setForeground(palette().color(QPalette::Text));
  cursor.insertText(continuation_, generatedFormat);
  if (!suffix.isEmpty()) {
    QTextCharFormat noteFormat;
    noteFormat.setForeground(QColor(0xb91c1c));
    noteFormat.setFontItalic(true);
    cursor.insertText(suffix, noteFormat);
  }
  output_->setTextCursor(cursor);
  output_->ensureCursorVisible();
}

}  // namespace mechscope
