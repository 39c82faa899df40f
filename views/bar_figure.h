#pragma once
// A vertical bar-chart figure shared by the weight views: categories along x, one or more bar
// series side by side in each category (a legend when there are several), optional horizontal
// reference lines (e.g. a whole-matrix score) and an optional line series on a right-hand axis
// (e.g. singular values beside composition scores). Painting and hit-testing share one layout.
#include <QColor>
#include <QRectF>
#include <QStringList>
#include <functional>
#include <vector>

#include "views/figure_style.h"

class QPainter;
class QFontMetricsF;

namespace mechscope {

/// Category labels under a plot of `count` slots `slot` wide (every `step`-th; rotated a quarter
/// turn when `rotate`), elided to `maxWidth`, `top` pixels below the plot's bottom edge. Returns
/// the lowest y drawn. Shared by BarFigure and BarChartView.
double paintCategoryLabels(QPainter& p, const QFontMetricsF& fm, const QRectF& plot, double slot,
                           int count, int step, bool rotate, double top, double maxWidth,
                           const std::function<QString(int)>& label);

struct BarSeries {
  QString name;
  QColor color;
  std::vector<double> values;  ///< One per category; NaN draws nothing.
};

struct BarReference {
  double value = 0;
  QString label;  ///< Drawn at the line's right end.
  QColor color;
};

struct BarFigure {
  QString title;   ///< Empty to omit.
  QString xTitle, yTitle;
  QStringList categories;
  std::vector<BarSeries> series;
  std::vector<BarReference> references;
  BarSeries line;          ///< Drawn on the right axis when it has values.
  QString lineTitle;       ///< The right axis' title.
  bool annotate = true;    ///< Values above the bars when they fit.
  bool fixedRange = false; ///< Use [lo, hi] below instead of the data's range.
  bool integerTicks = false; ///< Whole numbers only on the left axis (counts).
  double lo = 0, hi = 1;
};

struct BarLayout {
  QRectF title, legend, plot;
  double lo = 0, hi = 1;          // left axis range
  double lineLo = 0, lineHi = 1;  // right axis range
  double slot = 0;                // width per category
  int labelStep = 1;
  bool rotate = false;

  double valueToY(double v) const { return plot.bottom() - (v - lo) / (hi - lo) * plot.height(); }
  double lineToY(double v) const {
    return plot.bottom() - (v - lineLo) / (lineHi - lineLo) * plot.height();
  }
  /// The category under `pos` (its full slot), or -1.
  int categoryAt(const QPointF& pos) const;
  /// The bar of `series` in category `index`.
  QRectF barRect(const BarFigure& f, int index, int series) const;
};

BarLayout layoutBars(const BarFigure& figure, const QRectF& rect, const FigureStyle& style);
void paintBars(QPainter& p, const QRectF& rect, const BarFigure& figure, const FigureStyle& style);

/// Colour of the i-th series (blue, orange, green, …; colour-blind safe "tab10" order).
QColor seriesColor(int i);

/// "C3: score 0.12, singular value 4.1" — category `index`'s values, for tooltips.
QString barDescription(const BarFigure& figure, int index);

}  // namespace mechscope
