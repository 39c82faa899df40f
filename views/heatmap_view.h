#pragma once
// HeatmapView: any array of two or more dimensions as one heatmap (leading axes flattened into
// rows, the last axis as columns) — e.g. a [layer, head] score grid. Diverging colours when the
// data has negative values, sequential otherwise; values printed in cells that are big enough.
#include <QStringList>

#include "views/colormap.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QComboBox;

namespace mechscope {

class ColorScaleEditor;

class HeatmapView : public ResultView {
  Q_OBJECT

 public:
  explicit HeatmapView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// The result's first non-empty array has two or more dimensions.
  static bool canShow(const Result& result);

  /// {"array": name, "scale": ColorScale JSON, "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  const std::string& arrayName() const { return arrayName_; }
  int rows() const { return matrix_.rows; }
  int cols() const { return matrix_.cols; }
  const ColorScale& colorScale() const { return scale_; }
  /// Canvas rectangle of a cell (empty when out of range).
  QRect cellRect(int row, int col) const;

 protected:
  bool canvasWheel(QWheelEvent* event) override;

 private:
  void selectArray(const std::string& name);
  HeatmapFigure figure() const;
  void syncControls();
  void userChanged();

  std::vector<std::string> candidates_;  // arrays with two or more dimensions
  std::string arrayName_;
  MatrixRef matrix_;
  QStringList xLabels_, yLabels_;
  QString xTitle_, yTitle_;
  ColorScale scale_;

  QComboBox* arrayBox_ = nullptr;
  ColorScaleEditor* scaleEditor_ = nullptr;
};

/// The name of the array a generic view shows first: the first (by name) non-empty array with
/// at least one dimension; empty when there is none.
std::string primary_array_name(const Result& result);

}  // namespace mechscope
