#include "views/line_figure.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "views/bar_figure.h"
#include "views/chart_axes.h"

namespace mechscope {
namespace {


bool hasLegend(const LineFigure& f) {
  return std::count_if(f.series.begin(), f.series.end(),
                       [](const LineSeries& s) { return !s.secondary; }) > 1;
}

}  // namespace

QRectF LineLayout::slotRect(int index) const {
  return QRectF(plot.left() + index * slot, plot.top(), slot, plot.height());
}

int LineLayout::categoryAt(const QPointF& pos) const {
  if (slot <= 0 || pos.x() < plot.left() || pos.x() >= plot.right() || pos.y() < plot.top() ||
      pos.y() > plot.bottom())
    return -1;
  return static_cast<int>((pos.x() - plot.left()) / slot);
}

QRectF LineLayout::bandRect(const LineBand& band, int count) const {
  if (band.empty() || count <= 0 || band.first >= count) return {};
  return slotRect(band.first).united(slotRect(std::min(band.last, count - 1)));
}

LineLayout layoutLines(const LineFigure& f, const QRectF& rect, const FigureStyle& style) {
  LineLayout L;
  const QFontMetricsF fm(style.font(0.85));
  const double pad = style.pad(), gap = style.fontPx * 0.3, tick = style.fontPx * 0.3;
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  L.title = QRectF(R.left(), R.top(), R.width(), titleHeight(f.title, style));
  double top = L.title.bottom();
  if (hasLegend(f)) {
    L.legend = QRectF(R.left(), top, R.width(), fm.height() * 1.3);
    top = L.legend.bottom();
  }
  std::vector<const std::vector<double>*> all;
  for (const LineSeries& s : f.series) all.push_back(&s.values);
  std::tie(L.lo, L.hi) = f.fixedRange ? std::make_pair(f.lo, f.hi) : valueRange(all, f.zeroLine);
  if (!f.fixedRange) {  // markers at the extremes stay inside the plot
    const double margin = (L.hi - L.lo) * 0.04;
    L.lo -= margin;
    L.hi += margin;
  }
  const double axisTitleH = QFontMetricsF(style.font(0.95)).height() + gap;
  const double left =
      (f.yTitle.isEmpty() ? 0 : axisTitleH) + valueTickWidth(L.lo, L.hi, fm) + tick + gap;
  CategoryAxis axis;
  L.plot = placeCategoryPlot(R, left, pad * 0.5, top, f.categories, !f.xTitle.isEmpty(), style, axis);
  L.slot = axis.slot;
  L.labelStep = axis.labelStep;
  L.rotate = axis.rotate;
  return L;
}

void paintLines(QPainter& p, const QRectF& rect, const LineFigure& f, const FigureStyle& style) {
  const LineLayout L = layoutLines(f, rect, style);
  const int n = static_cast<int>(f.categories.size());
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, f.title, style);
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  const double tick = style.fontPx * 0.3, gap = style.fontPx * 0.3;

  if (!L.legend.isEmpty()) {
    std::vector<LegendEntry> entries;
    for (const LineSeries& s : f.series)
      if (!s.secondary) entries.push_back({s.name, s.color, true});
    paintLegend(p, L.legend, L.plot.left(), entries, style);
  }

  // The band behind everything.
  const QRectF band = L.bandRect(f.band, n);
  if (!band.isEmpty()) p.fillRect(band, f.band.color);
  paintValueGrid(p, L.plot, L.lo, L.hi, tick + gap, style);
  if (f.zeroLine && L.lo <= 0 && L.hi >= 0) {
    p.setPen(QPen(style.text, 1.0));
    p.drawLine(QPointF(L.plot.left(), L.valueToY(0)), QPointF(L.plot.right(), L.valueToY(0)));
  }
  if (f.marked >= 0 && f.marked < n) {
    p.setPen(QPen(style.text, std::max(1.0, style.fontPx * 0.1), Qt::DashLine));
    const double x = L.categoryX(f.marked);
    p.drawLine(QPointF(x, L.plot.top()), QPointF(x, L.plot.bottom()));
  }

  // Secondary series first (behind), then the primary ones with markers.
  const double width = std::max(1.5, style.fontPx * 0.15);
  const double radius = std::clamp(L.slot * 0.12, 1.5, style.fontPx * 0.25);
  for (bool secondary : {true, false})
    for (const LineSeries& s : f.series) {
      if (s.secondary != secondary) continue;
      QColor color = s.color;
      if (secondary) color.setAlpha(70);
      QPainterPath path;
      bool pen = false;
      std::vector<QPointF> points;
      for (int i = 0; i < n && i < int(s.values.size()); ++i) {
        if (!std::isfinite(s.values[i])) {
          pen = false;
          continue;
        }
        const QPointF pt(L.categoryX(i), L.valueToY(s.values[i]));
        pen ? path.lineTo(pt) : path.moveTo(pt);
        pen = true;
        points.push_back(pt);
      }
      p.setBrush(Qt::NoBrush);
      p.setPen(QPen(color, secondary ? std::max(1.0, width * 0.5) : width));
      p.drawPath(path);
      if (secondary) continue;
      p.setBrush(color);
      for (const QPointF& pt : points) p.drawEllipse(pt, radius, radius);
    }
  p.setBrush(Qt::NoBrush);
  p.setPen(QPen(style.frame, 1.0));
  p.drawLine(L.plot.bottomLeft(), L.plot.topLeft());
  p.drawLine(L.plot.bottomLeft(), L.plot.bottomRight());

  // Category labels and axis titles.
  paintCategoryAxis(p, L.plot, {L.slot, L.labelStep, L.rotate}, f.categories, f.xTitle, style);
  const double titleH = QFontMetricsF(p.font()).height();
  if (!f.yTitle.isEmpty())
    drawVerticalText(p, QPointF(rect.left() + style.pad() + titleH / 2, L.plot.center().y()),
                     f.yTitle);
  p.restore();
}

QString lineDescription(const LineFigure& f, int index) {
  if (index < 0 || index >= f.categories.size()) return {};
  QStringList parts;
  for (const LineSeries& s : f.series)
    if (!s.secondary && index < int(s.values.size()))
      parts << QStringLiteral("%1 %2")
                   .arg(s.name, QString::number(s.values[index], 'g', 4))
                   .trimmed();
  return f.categories[index] + QStringLiteral(": ") + parts.join(QStringLiteral(", "));
}

}  // namespace mechscope
