#pragma once
// Parts the chart figures share (BarFigure, LineFigure): the value range of a set of series, the
// value axis (grid lines and tick labels left of a plot) and the legend row of series swatches.
#include <QColor>
#include <QRectF>
#include <QString>
#include <QStringList>
#include <utility>
#include <vector>

#include "views/figure_style.h"

class QFontMetricsF;
class QPainter;

namespace mechscope {

/// [lo, hi] over the finite values of `all` (0 included when `fromZero`), widened by 8% on the
/// sides away from zero so values printed at the ends fit; never empty ({0, 1} without data).
std::pair<double, double> valueRange(const std::vector<const std::vector<double>*>& all,
                                     bool fromZero);

/// Nice tick values in [lo, hi], at most about `maxCount` (niceTicks); only whole numbers when
/// `integers` (counts).
std::vector<double> valueTicks(double lo, double hi, int maxCount, bool integers = false);

/// Width of the widest tick label of a value axis over [lo, hi].
double valueTickWidth(double lo, double hi, const QFontMetricsF& fm);

/// Light horizontal grid lines across `plot` at nice values of [lo, hi] (lo at the bottom edge,
/// hi at the top; as many as fit), each labelled right-aligned `offset` pixels left of the plot.
void paintValueGrid(QPainter& p, const QRectF& plot, double lo, double hi, double offset,
                    const FigureStyle& style, bool integers = false);

/// Category labels are elided to this many ems.
inline constexpr double kMaxCategoryLabelEms = 9;

/// How a category axis under a plot is drawn.
struct CategoryAxis {
  double slot = 0;     ///< width per category
  int labelStep = 1;   ///< every n-th label is drawn
  bool rotate = false; ///< labels turned a quarter
};

/// The plot of a category chart inside `R`: from `left` and `top` to `right` pixels short of R's
/// right edge, ending above the category labels (turned when they do not fit their slots) and,
/// when `xTitle`, the axis title. Fills `axis`.
QRectF placeCategoryPlot(const QRectF& R, double left, double right, double top,
                         const QStringList& categories, bool xTitle, const FigureStyle& style,
                         CategoryAxis& axis);

/// Paints the category labels under `plot` (as placeCategoryPlot laid them out) and, when not
/// empty, the x-axis title under them. Leaves the axis-title font (0.95) and the muted pen set.
void paintCategoryAxis(QPainter& p, const QRectF& plot, const CategoryAxis& axis,
                       const QStringList& categories, const QString& xTitle,
                       const FigureStyle& style);

struct LegendEntry {
  QString name;
  QColor color;
  bool line = false;  ///< A line swatch (line series) instead of a filled box (bars).
};

/// The entries left to right from `left`, centred vertically in `row`, in the 0.85 font.
void paintLegend(QPainter& p, const QRectF& row, double left,
                 const std::vector<LegendEntry>& entries, const FigureStyle& style);

}  // namespace mechscope
