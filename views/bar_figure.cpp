#include "views/bar_figure.h"

#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/chart_axes.h"
#include "views/color_bar.h"
#include "views/colormap.h"

namespace mechscope {
namespace {


}  // namespace

QColor seriesColor(int i) {
  static const QColor kColors[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},
                                   {214, 39, 40},  {148, 103, 189}, {140, 86, 75}};
  return kColors[((i % 6) + 6) % 6];
}

int BarLayout::categoryAt(const QPointF& pos) const {
  if (slot <= 0 || pos.x() < plot.left() || pos.x() >= plot.right() || pos.y() < plot.top() ||
      pos.y() > plot.bottom())
    return -1;
  return static_cast<int>((pos.x() - plot.left()) / slot);
}

QRectF BarLayout::barRect(const BarFigure& f, int index, int s) const {
  const int n = std::max<int>(1, static_cast<int>(f.series.size()));
  const double inner = slot * 0.8, w = inner / n;
  const double x = plot.left() + index * slot + slot * 0.1 + s * w;
  const double v = s < int(f.series.size()) && index < int(f.series[s].values.size())
                       ? f.series[s].values[index]
                       : 0.0;
  const double y = valueToY(std::isfinite(v) ? v : 0.0), zero = valueToY(std::max(lo, 0.0));
  return QRectF(x, std::min(y, zero), w, std::abs(zero - y));
}

BarLayout layoutBars(const BarFigure& f, const QRectF& rect, const FigureStyle& style) {
  BarLayout L;
  const QFontMetricsF fm(style.font(0.85));
  const double pad = style.pad(), gap = style.fontPx * 0.3, tick = style.fontPx * 0.3;
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  L.title = QRectF(R.left(), R.top(), R.width(), titleHeight(f.title, style));
  double top = L.title.bottom();
  if (f.series.size() > 1 || !f.line.values.empty()) {
    L.legend = QRectF(R.left(), top, R.width(), fm.height() * 1.3);
    top = L.legend.bottom();
  }
  std::vector<const std::vector<double>*> all;
  for (const BarSeries& s : f.series) all.push_back(&s.values);
  std::vector<double> refs;
  for (const BarReference& r : f.references) refs.push_back(r.value);
  all.push_back(&refs);
  std::tie(L.lo, L.hi) = f.fixedRange ? std::make_pair(f.lo, f.hi) : valueRange(all, true);
  std::tie(L.lineLo, L.lineHi) = valueRange({&f.line.values}, true);
  const double axisTitleH = QFontMetricsF(style.font(0.95)).height() + gap;
  const double left =
      (f.yTitle.isEmpty() ? 0 : axisTitleH) + valueTickWidth(L.lo, L.hi, fm) + tick + gap;
  const double right = f.line.values.empty()
                           ? pad * 0.5
                           : valueTickWidth(L.lineLo, L.lineHi, fm) + tick + gap +
                                 (f.lineTitle.isEmpty() ? 0 : axisTitleH);
  CategoryAxis axis;
  L.plot = placeCategoryPlot(R, left, right, top, f.categories, !f.xTitle.isEmpty(), style, axis);
  L.slot = axis.slot;
  L.labelStep = axis.labelStep;
  L.rotate = axis.rotate;
  return L;
}

void paintBars(QPainter& p, const QRectF& rect, const BarFigure& f, const FigureStyle& style) {
  const BarLayout L = layoutBars(f, rect, style);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, f.title, style);
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  const double tick = style.fontPx * 0.3, gap = style.fontPx * 0.3;
  p.setFont(font);

  // Legend: a swatch and a name per series (and the line).
  if (!L.legend.isEmpty()) {
    std::vector<LegendEntry> entries;
    for (const BarSeries& s : f.series) entries.push_back({s.name, s.color, false});
    if (!f.line.values.empty()) entries.push_back({f.line.name, f.line.color, true});
    paintLegend(p, L.legend, L.plot.left(), entries, style);
  }

  // Left axis grid and ticks.
  const int tickCount = std::clamp(int(L.plot.height() / (fm.height() * 2)), 2, 8);
  paintValueGrid(p, L.plot, L.lo, L.hi, tick + gap, style, f.integerTicks);

  // Bars.
  const int n = static_cast<int>(f.categories.size());
  const double barW = L.slot * 0.8 / std::max<size_t>(1, f.series.size());
  const bool annotate = f.annotate && barW >= fm.horizontalAdvance(QStringLiteral("0.000"));
  for (int s = 0; s < int(f.series.size()); ++s)
    for (int i = 0; i < n && i < int(f.series[s].values.size()); ++i) {
      const double v = f.series[s].values[i];
      if (!std::isfinite(v)) continue;
      const QRectF bar = L.barRect(f, i, s);
      p.fillRect(bar, f.series[s].color);
      if (annotate) {
        p.setPen(style.muted);
        const double h = fm.height();
        p.drawText(QRectF(bar.left() - barW, v < 0 ? bar.bottom() + 1 : bar.top() - h - 1,
                          barW * 3, h),
                   Qt::AlignCenter, formatValue(v, 2));
      }
    }
  const double zero = L.valueToY(std::max(L.lo, 0.0));
  p.setPen(QPen(style.text, 1.0));
  p.drawLine(QPointF(L.plot.left(), zero), QPointF(L.plot.right(), zero));
  p.setPen(QPen(style.frame, 1.0));
  p.drawLine(L.plot.bottomLeft(), L.plot.topLeft());

  // Reference lines, dashed, labelled at their right end.
  for (const BarReference& r : f.references) {
    const double y = L.valueToY(r.value);
    p.setPen(QPen(r.color.isValid() ? r.color : style.text, std::max(1.2, style.fontPx * 0.12),
                  Qt::DashLine));
    p.drawLine(QPointF(L.plot.left(), y), QPointF(L.plot.right(), y));
    p.setPen(r.color.isValid() ? r.color : style.text);
    const double w = fm.horizontalAdvance(r.label);
    const QRectF label(L.plot.right() - w - 6, y - fm.height() - 1, w + 4, fm.height());
    p.fillRect(label, QColor(255, 255, 255, 210));  // readable over the bars
    p.drawText(label, Qt::AlignRight | Qt::AlignBottom, r.label);
  }

  // The line series on the right axis.
  if (!f.line.values.empty()) {
    QPolygonF poly;
    for (int i = 0; i < n && i < int(f.line.values.size()); ++i)
      if (std::isfinite(f.line.values[i]))
        poly << QPointF(L.plot.left() + (i + 0.5) * L.slot, L.lineToY(f.line.values[i]));
    p.setPen(QPen(f.line.color, std::max(1.5, style.fontPx * 0.15)));
    p.drawPolyline(poly);
    p.setBrush(f.line.color);
    const double r = std::clamp(L.slot * 0.12, 1.5, style.fontPx * 0.3);
    for (const QPointF& pt : poly) p.drawEllipse(pt, r, r);
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(style.frame, 1.0));
    p.drawLine(L.plot.bottomRight(), L.plot.topRight());
    for (double v : niceTicks(L.lineLo, L.lineHi, tickCount)) {
      const double y = L.lineToY(v);
      p.setPen(style.text);
      p.drawLine(QPointF(L.plot.right(), y), QPointF(L.plot.right() + tick, y));
      p.drawText(QRectF(L.plot.right() + tick + gap, y - fm.height() / 2, style.fontPx * 8,
                        fm.height()),
                 Qt::AlignLeft | Qt::AlignVCenter, formatValue(v));
    }
  }

  // Category labels and the x title.
  paintCategoryAxis(p, L.plot, {L.slot, L.labelStep, L.rotate}, f.categories, f.xTitle, style);
  const double titleH = QFontMetricsF(p.font()).height();
  const QRectF R = rect.adjusted(style.pad(), 0, -style.pad(), 0);
  if (!f.yTitle.isEmpty())
    drawVerticalText(p, QPointF(R.left() + titleH / 2, L.plot.center().y()), f.yTitle);
  if (!f.lineTitle.isEmpty() && !f.line.values.empty())
    drawVerticalText(p, QPointF(R.right() - titleH / 2, L.plot.center().y()), f.lineTitle);
  p.restore();
}

double paintCategoryLabels(QPainter& p, const QFontMetricsF& fm, const QRectF& plot, double slot,
                           int count, int step, bool rotate, double top, double maxWidth,
                           const std::function<QString(int)>& label) {
  double bottom = plot.bottom() + top + fm.height();
  for (int i = 0; i < count; i += std::max(1, step)) {
    const QString text = fm.elidedText(label(i), Qt::ElideRight, maxWidth);
    const double cx = plot.left() + (i + 0.5) * slot, w = fm.horizontalAdvance(text);
    if (rotate) {
      p.save();
      p.translate(cx, plot.bottom() + top);
      p.rotate(-90);
      p.drawText(QRectF(-w - 2, -fm.height() / 2, w + 2, fm.height()),
                 Qt::AlignRight | Qt::AlignVCenter, text);
      p.restore();
      bottom = std::max(bottom, plot.bottom() + top + w);
    } else {
      p.drawText(QRectF(cx - w / 2 - 1, plot.bottom() + top, w + 2, fm.height()), Qt::AlignCenter,
                 text);
    }
  }
  return bottom;
}

QString barDescription(const BarFigure& f, int index) {
  if (index < 0 || index >= f.categories.size()) return {};
  QStringList parts;
  auto add = [&](const BarSeries& s) {
    if (index < int(s.values.size()))
      parts << QStringLiteral("%1 %2").arg(s.name, QString::number(s.values[index], 'g', 7));
  };
  for (const BarSeries& s : f.series) add(s);
  if (!f.line.values.empty()) add(f.line);
  return f.categories[index] + QStringLiteral(": ") + parts.join(QStringLiteral(", "));
}

}  // namespace mechscope
