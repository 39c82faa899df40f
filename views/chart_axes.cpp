#include "views/chart_axes.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/bar_figure.h"
#include "views/color_bar.h"
#include "views/colormap.h"

namespace mechscope {

std::pair<double, double> valueRange(const std::vector<const std::vector<double>*>& all,
                                     bool fromZero) {
  double lo = fromZero ? 0 : INFINITY, hi = fromZero ? 0 : -INFINITY;
  for (const auto* v : all)
    for (double x : *v)
      if (std::isfinite(x)) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
  if (!(lo <= hi)) lo = hi = 0;
  if (hi == lo) hi = lo + 1;
  const double margin = (hi - lo) * 0.08;  // room for the values printed at the ends
  return {lo < 0 ? lo - margin : lo, hi > 0 ? hi + margin : hi};
}

std::vector<double> valueTicks(double lo, double hi, int maxCount, bool integers) {
  std::vector<double> ticks = niceTicks(lo, hi, maxCount);
  if (!integers || ticks.size() < 2) return ticks;
  double step = std::max(1.0, std::ceil(ticks[1] - ticks[0]));
  while ((hi - lo) / step > std::max(1, maxCount - 1)) step *= 2;
  ticks.clear();
  for (double v = std::ceil(lo / step) * step; v <= hi; v += step) ticks.push_back(v);
  return ticks;
}

double valueTickWidth(double lo, double hi, const QFontMetricsF& fm) {
  double w = 0;
  for (double v : niceTicks(lo, hi, 8)) w = std::max(w, fm.horizontalAdvance(formatValue(v)));
  return w;
}

void paintValueGrid(QPainter& p, const QRectF& plot, double lo, double hi, double offset,
                    const FigureStyle& style, bool integers) {
  if (!(hi > lo) || plot.height() <= 0) return;
  p.save();
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  p.setFont(font);
  const int count = std::clamp(int(plot.height() / (fm.height() * 2)), 2, 8);
  for (double v : valueTicks(lo, hi, count, integers)) {
    const double y = plot.bottom() - (v - lo) / (hi - lo) * plot.height();
    p.setPen(QPen(QColor(228, 228, 228), 1.0));
    p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
    p.setPen(style.text);
    p.drawText(QRectF(plot.left() - offset - style.fontPx * 8, y - fm.height() / 2,
                      style.fontPx * 8, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, formatValue(v));
  }
  p.restore();
}

void paintLegend(QPainter& p, const QRectF& row, double left,
                 const std::vector<LegendEntry>& entries, const FigureStyle& style) {
  p.save();
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  p.setFont(font);
  double x = left;
  const double s = fm.height() * 0.7, y = row.center().y();
  for (const LegendEntry& e : entries) {
    if (e.line) {
      p.setPen(QPen(e.color, std::max(1.5, style.fontPx * 0.15)));
      p.drawLine(QPointF(x, y), QPointF(x + s * 1.4, y));
    } else {
      p.fillRect(QRectF(x, y - s / 2, s * 1.4, s), e.color);
    }
    p.setPen(style.text);
    const double w = fm.horizontalAdvance(e.name);
    p.drawText(QRectF(x + s * 1.8, row.top(), w + 2, row.height()),
               Qt::AlignLeft | Qt::AlignVCenter, e.name);
    x += s * 1.8 + w + style.fontPx * 1.2;
  }
  p.restore();
}

QRectF placeCategoryPlot(const QRectF& R, double left, double right, double top,
                         const QStringList& categories, bool xTitle, const FigureStyle& style,
                         CategoryAxis& axis) {
  const QFontMetricsF fm(style.font(0.85));
  const double gap = style.fontPx * 0.3, tick = style.fontPx * 0.3;
  const double axisTitleH = QFontMetricsF(style.font(0.95)).height() + gap;
  double maxLabel = 0;
  for (const QString& c : categories)
    maxLabel = std::max(maxLabel, std::min(fm.horizontalAdvance(c), style.fontPx * kMaxCategoryLabelEms));
  QRectF plot(R.left() + left, top + fm.height() / 2, std::max(1.0, R.width() - left - right), 0);
  axis.slot = plot.width() / std::max<int>(1, categories.size());
  const double need = maxLabel + style.fontPx * 0.6;
  axis.rotate = axis.slot < need && maxLabel > style.fontPx * 2.6;
  axis.labelStep = std::max(1, static_cast<int>(std::ceil((axis.rotate ? fm.height() * 1.15 : need) /
                                                          std::max(axis.slot, 1e-9))));
  const double bottom = tick + gap + (axis.rotate ? maxLabel : fm.height()) + (xTitle ? axisTitleH : 0);
  plot.setBottom(std::max(plot.top() + 1, R.bottom() - bottom));
  return plot;
}

void paintCategoryAxis(QPainter& p, const QRectF& plot, const CategoryAxis& axis,
                       const QStringList& categories, const QString& xTitle,
                       const FigureStyle& style) {
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  const double gap = style.fontPx * 0.3, tick = style.fontPx * 0.3;
  p.setFont(font);
  p.setPen(style.text);
  const double labelsBottom = paintCategoryLabels(
      p, fm, plot, axis.slot, int(categories.size()), axis.labelStep, axis.rotate, tick + gap,
      style.fontPx * kMaxCategoryLabelEms, [&](int i) { return categories[i]; });
  p.setFont(style.font(0.95));
  p.setPen(style.muted);
  const double titleH = QFontMetricsF(p.font()).height();
  if (!xTitle.isEmpty())
    p.drawText(QRectF(plot.left(), labelsBottom + gap, plot.width(), titleH * 1.1),
               Qt::AlignHCenter | Qt::AlignTop, xTitle);
}

}  // namespace mechscope
