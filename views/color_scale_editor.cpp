#include "views/color_scale_editor.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <algorithm>
#include <cmath>

namespace mechscope {
namespace {

enum RangeMode { kAuto = 0, kUnit = 1, kManual = 2 };

bool diverging(const ColorScale& s) { return s.kind == ColorScale::Kind::Diverging; }

// Diverging scales are edited as a half-width around their centre.
double halfWidth(const ColorScale& s) {
  return std::max(std::abs(s.min - s.center), std::abs(s.max - s.center));
}

bool isUnit(const ColorScale& s) {
  if (s.autoRange) return false;
  return diverging(s) ? s.max == s.center + 1.0 && s.min == s.center - 1.0
                      : s.max == 1.0 && s.min == 0.0;
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
  max_->setValue(diverging(resolved) ? halfWidth(resolved) : resolved.max);
}

void ColorScaleEditor::syncControls() {
  const QSignalBlocker b1(range_), b2(max_), b3(gamma_);
  const bool div = diverging(scale_);
  range_->clear();
  range_->addItems({tr("Auto"), div ? tr("±1") : tr("0–1"), tr("Manual")});
  range_->setCurrentIndex(mode_);
  max_->setValue(div ? halfWidth(scale_) : scale_.max);
  max_->setEnabled(mode_ == kManual);
  max_->setPrefix(div ? QStringLiteral("±") : QString());
  gamma_->setValue(scale_.gamma);
}

void ColorScaleEditor::onRangeModeChanged(int index) {
  const bool div = diverging(scale_);
  const double c = div ? scale_.center : 0.0;
  mode_ = index;
  scale_.autoRange = index == kAuto;
  if (index == kUnit) {
    scale_.min = div ? c - 1.0 : 0.0;
    scale_.max = c + 1.0;
  } else if (index == kManual) {
    scale_.max = c + max_->value();
    scale_.min = div ? c - max_->value() : 0.0;
  }
  syncControls();
  emit scaleChanged(scale_);
}

void ColorScaleEditor::onMaxChanged(double value) {
  mode_ = kManual;
  scale_.autoRange = false;
  const bool div = diverging(scale_);
  scale_.max = (div ? scale_.center : 0.0) + value;
  scale_.min = div ? scale_.center - value : 0.0;
  emit scaleChanged(scale_);
}

void ColorScaleEditor::onGammaChanged(double value) {
  scale_.gamma = value;
  emit scaleChanged(scale_);
}

}  // namespace mechscope
