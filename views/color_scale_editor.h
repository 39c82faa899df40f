#pragma once
// A compact row of controls for a ColorScale: range (auto, unit, manual maximum) and gamma.
#include <QWidget>

#include "views/colormap.h"

class QComboBox;
class QDoubleSpinBox;

namespace mechscope {

class ColorScaleEditor : public QWidget {
  Q_OBJECT

 public:
  explicit ColorScaleEditor(QWidget* parent = nullptr);

  /// Shows `scale` without emitting scaleChanged().
  void setScale(const ColorScale& scale);
  const ColorScale& scale() const { return scale_; }
  /// While the range is automatic, shows the maximum it resolved to (the start for "Manual").
  void showResolved(const ColorScale& resolved);

 signals:
  /// The user changed the range or gamma.
  void scaleChanged(const mechscope::ColorScale& scale);

 private:
  void onRangeModeChanged(int index);
  void onMaxChanged(double value);
  void onGammaChanged(double value);
  void syncControls();

  ColorScale scale_;
  int mode_ = 0;  // auto, unit, manual: what the range box shows
  QComboBox* range_;
  QDoubleSpinBox* max_;
  QDoubleSpinBox* gamma_;
};

}  // namespace mechscope
