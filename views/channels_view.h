#pragma once
// ChannelsView: low-rank channels (probe "channels") — the composition score of each singular
// component of a sender head's OV with a receiver head (bars), the sender's singular values (a
// line on the right axis, optional), the whole-matrix score (meta["composition_score"]) as a
// dashed reference line and, when the result has a `metric` [condition] array (original, scaled),
// the metric before and after rescaling the chosen components as a bar pair beside it. Arrays
// `component_score`, `singular_value` [component]; meta `sender`, `receiver`, `mode`, `scale`.
// Painting is in channels_figure.cpp.
#include "views/bar_figure.h"
#include "views/result_view.h"

class QCheckBox;

namespace mechscope {

class ChannelsView : public ResultView {
  Q_OBJECT

 public:
  explicit ChannelsView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "channels" with a 1-d `component_score`.
  static bool canShow(const Result& result);

  /// {"singular_values": bool (the line), "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  /// The component bars (one per component) and, when shown, the singular values' line.
  BarFigure componentFigure() const;
  /// The before/after pair; no categories when the result has no `metric`.
  BarFigure metricFigure() const;
  bool hasMetric() const { return metric_ != nullptr; }
  /// "L0H0 → L1H1, Q-composition; whole matrix 0.12; C0,1 × 0".
  QString caption() const;
  /// Canvas rectangle of component `index`'s bar.
  QRect barRect(int index) const;

 protected:
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, caption, components, metric;  // metric: empty without one
  };
  Layout layout(const QRectF& rect) const;

  const Array* score_ = nullptr;
  const Array* singular_ = nullptr;
  const Array* metric_ = nullptr;
  bool showSingular_ = true;
  QCheckBox* singularBox_ = nullptr;
};

}  // namespace mechscope
