#pragma once
// A line-chart figure: categories along x (e.g. layers), one or more series as lines with markers
// (a legend when there are several), faint secondary lines behind them (e.g. single examples), a
// zero reference line, axis titles, an optional shaded band over a range of categories (e.g. the
// layers a knockout window blocks) and an optional marked category (a selection). Painting and
// hit-testing share one layout, as for BarFigure.
#include <QColor>
#include <QRectF>
#include <QStringList>
#include <vector>

#include "views/figure_style.h"

class QPainter;

namespace mechscope {

struct LineSeries {
  QString name;
  QColor color;
  std::vector<double> values;  ///< One per category; NaN leaves a gap.
  bool secondary = false;      ///< Thin and light, without markers, not in the legend.
};

/// A shaded range of categories.
struct LineBand {
  int first = -1, last = -1;  ///< The categories covered (inclusive); first < 0 for none.
  QColor color{31, 119, 180, 40};

  bool empty() const { return first < 0 || last < first; }
};

struct LineFigure {
  QString title;  ///< Empty to omit.
  QString xTitle, yTitle;
  QStringList categories;
  std::vector<LineSeries> series;
  bool zeroLine = true;  ///< A solid line at 0 (and 0 kept inside the range).
  LineBand band;
  int marked = -1;          ///< A category marked by a vertical line; -1 for none.
  bool fixedRange = false;  ///< Use [lo, hi] below instead of the data's range.
  double lo = 0, hi = 1;
};

struct LineLayout {
  QRectF title, legend, plot;
  double lo = 0, hi = 1;
  double slot = 0;  // width per category
  int labelStep = 1;
  bool rotate = false;

  double valueToY(double v) const { return plot.bottom() - (v - lo) / (hi - lo) * plot.height(); }
  /// The x of category `index`'s points (the middle of its slot).
  double categoryX(int index) const { return plot.left() + (index + 0.5) * slot; }
  /// Category `index`'s full-height slot of the plot.
  QRectF slotRect(int index) const;
  /// The category whose slot holds `pos`, or -1.
  int categoryAt(const QPointF& pos) const;
  /// The band's slots, clipped to the `count` categories; empty for an empty band.
  QRectF bandRect(const LineBand& band, int count) const;
};

LineLayout layoutLines(const LineFigure& figure, const QRectF& rect, const FigureStyle& style);
void paintLines(QPainter& p, const QRectF& rect, const LineFigure& figure,
                const FigureStyle& style);

/// "L3: Image→Last -12.5, Question→Last 0.8" — category `index`'s values of the primary series.
QString lineDescription(const LineFigure& figure, int index);

}  // namespace mechscope
