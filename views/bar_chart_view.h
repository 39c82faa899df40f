#pragma once
// BarChartView: a 1-d array as a bar chart (one bar per index, labelled with the axis' labels;
// bars below the zero line for negative values), e.g. a logit difference per layer.
#include <QStringList>

#include "views/result_view.h"

class QComboBox;

namespace mechscope {

struct FigureStyle;

class BarChartView : public ResultView {
  Q_OBJECT

 public:
  explicit BarChartView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// The result's first non-empty array has one dimension.
  static bool canShow(const Result& result);

  /// {"array": name}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  const std::string& arrayName() const { return arrayName_; }
  /// Canvas rectangle of bar `index`'s slot (its full height), empty when out of range.
  QRect barSlot(int index) const;

 private:
  struct Layout {
    QRectF title, plot;
    double lo = 0, hi = 1;  // value range of the plot's height
    double slot = 0;        // width per bar
    int labelStep = 1;
    bool rotate = false;
    double valueToY(double v) const { return plot.bottom() - (v - lo) / (hi - lo) * plot.height(); }
  };
  Layout layout(const QRectF& rect, const FigureStyle& style) const;
  void selectArray(const std::string& name);

  std::vector<std::string> candidates_;  // 1-d arrays
  std::string arrayName_;
  const float* values_ = nullptr;
  int count_ = 0;
  QStringList labels_;
  QString axisTitle_;
  QComboBox* arrayBox_ = nullptr;
};

}  // namespace mechscope
