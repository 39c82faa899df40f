#pragma once
// A ROC-curve figure: false-positive rate along x, true-positive rate up y, both [0, 1] in a
// square plot, the chance diagonal dashed, one stepped line per curve with its AUC in the legend.
// Painting and hit-testing share one layout, as for BarFigure and LineFigure.
#include <QColor>
#include <QRectF>
#include <QString>
#include <utility>
#include <vector>

#include "views/figure_style.h"

class QPainter;

namespace mechscope {

struct RocCurve {
  QString name;  ///< "heads"; the legend shows "heads (AUC 0.87)".
  QColor color;
  std::vector<std::pair<double, double>> points;  ///< (fpr, tpr), from (0, 0) to (1, 1).
  double auc = 0;
};

struct RocFigure {
  QString title;  ///< Empty to omit.
  std::vector<RocCurve> curves;
  QString empty;  ///< Drawn in the plot when there are no curves (why there are none).
};

struct RocLayout {
  QRectF title, legend, plot;  ///< plot: the square [0, 1]² area.
  QPointF toCanvas(double fpr, double tpr) const {
    return {plot.left() + fpr * plot.width(), plot.bottom() - tpr * plot.height()};
  }
  /// (fpr, tpr) of a canvas point inside the plot, or (-1, -1).
  std::pair<double, double> fromCanvas(const QPointF& pos) const;
};

RocLayout layoutRoc(const RocFigure& figure, const QRectF& rect, const FigureStyle& style);
void paintRoc(QPainter& p, const QRectF& rect, const RocFigure& figure, const FigureStyle& style);

/// "heads (AUC 0.873)".
QString rocLegendText(const RocCurve& curve);

}  // namespace mechscope
