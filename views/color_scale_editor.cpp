#include "views/color_scale_editor.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <cmath>

namespace mechscope {
namespace {

enum RangeMode { kAuto = 0, kUnit = 1, kManual = 2 };

bool isUnit(const ColorScale& s) {
  return !s.autoRange && s.max == 1.0 &&
         s.min == (s.kind == ColorScale::Kind::Diverging ? -1.0 : 0.0);
}

}  // namespace

ColorScaleEditor::ColorScaleEditor(QWidget* parent) : QWidget(parent) {
  mode_ = kAuto;
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  range_ = new QComboBox(this);
  range_->setToolTip(tr("Colour range: follow the data, a fixed unit range, or a chosen maximum"));
  max_ = new QDoubleSpinBox(this);
  max_->setDecimals(4);
  max_->setRange(1e-4, 1e6);
  max_->setSingleStep(0.05);
  max_->setToolTip(tr("Value drawn with the strongest colour"));
  gamma_ = new QDoubleSpinBox(this);
  gamma_->setDecimals(2);
  gamma_->setRange(0.1, 5.0);
  gamma_->setSingleStep(0.1);
  gamma_->setToolTip(tr("Gamma: below 1 makes small values visible"));
  layout->addWidget(new QLabel(tr("Colour"), this));
  layout->addWidget(range_);
  layout->addWidget(new QLabel(tr("max"), this));
  layout->addWidget(max_);
  layout->addWidget(new QLabel(tr("γ"), this));
  layout->addWidget(gamma_);
  syncControls();

  connect(range_, &QComboBox::activated, this, &ColorScaleEditor::onRangeModeChanged);
  connect(max_, &QDoubleSpinBox::valueChanged, this, &ColorScaleEditor::onMaxChanged);
  connect(gamma_, &QDoubleSpinBox::valueChanged, this, &ColorScaleEditor::onGammaChanged);
}

void ColorScaleEditor::setScale(const ColorScale& scale) {
  scale_ = scale;
  mode_ = scale_.autoRange ? kAuto : isUnit(scale_) ? kUnit : kManual;
  syncControls();
}

void ColorScaleEditor::showResolved(const ColorScale& resolved) {
  if (mode_ != kAuto) return;
  const QSignalBlocker block(max_);
  max_->setValue(std::max(std::abs(resolved.min), resolved.max));
}

void ColorScaleEditor::syncControls() {
  const QSignalBlocker b1(range_), b2(max_), b3(gamma_);
  const bool diverging = scale_.kind == ColorScale::Kind::Diverging;
  range_->clear();
  range_->addItems({tr("Auto"), diverging ? tr("±1") : tr("0–1"), tr("Manual")});
  range_->setCurrentIndex(mode_);
  max_->setValue(diverging ? std::max(std::abs(scale_.min), scale_.max) : scale_.max);
  max_->setEnabled(mode_ == kManual);
  max_->setPrefix(diverging ? QStringLiteral("±") : QString());
  gamma_->setValue(scale_.gamma);
}

void ColorScaleEditor::onRangeModeChanged(int index) {
  const bool diverging = scale_.kind == ColorScale::Kind::Diverging;
  mode_ = index;
  scale_.autoRange = index == kAuto;
  if (index == kUnit) {
    scale_.min = diverging ? -1.0 : 0.0;
    scale_.max = 1.0;
  } else if (index == kManual) {
    scale_.max = max_->value();
    scale_.min = diverging ? -scale_.max : 0.0;
  }
  syncControls();
  emit scaleChanged(scale_);
}

void ColorScaleEditor::onMaxChanged(double value) {
  mode_ = kManual;
  scale_.autoRange = false;
  scale_.max = value;
  scale_.min = scale_.kind == ColorScale::Kind::Diverging ? -value : 0.0;
  emit scaleChanged(scale_);
}

void ColorScaleEditor::onGammaChanged(double value) {
  scale_.gamma = value;
  emit scaleChanged(scale_);
}

}  // namespace mechscope
