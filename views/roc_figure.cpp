#include "views/roc_figure.h"

#include <QFontMetricsF>
#include <QObject>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>

#include "views/chart_axes.h"
#include "views/colormap.h"

namespace mechscope {

std::pair<double, double> RocLayout::fromCanvas(const QPointF& pos) const {
  if (!plot.contains(pos) || plot.width() <= 0 || plot.height() <= 0) return {-1.0, -1.0};
  return {(pos.x() - plot.left()) / plot.width(), (plot.bottom() - pos.y()) / plot.height()};
}

QString rocLegendText(const RocCurve& c) {
  return QStringLiteral("%1 (AUC %2)").arg(c.name, formatValue(c.auc, 3));
}

RocLayout layoutRoc(const RocFigure& f, const QRectF& rect, const FigureStyle& style) {
  RocLayout L;
  const QFontMetricsF fm(style.font(0.85));
  const double pad = style.pad(), gap = style.fontPx * 0.3, tick = style.fontPx * 0.3;
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  L.title = QRectF(R.left(), R.top(), R.width(), titleHeight(f.title, style));
  double top = L.title.bottom();
  if (!f.curves.empty()) {
    L.legend = QRectF(R.left(), top, R.width(), fm.height() * 1.3);
    top = L.legend.bottom();
  }
  const double axisTitleH = QFontMetricsF(style.font(0.95)).height() + gap;
  const double left = axisTitleH + valueTickWidth(0, 1, fm) + tick + gap;
  const double bottom = fm.height() + tick + gap + axisTitleH;
  const double side =
      std::max(10.0, std::min(R.width() - left - pad * 0.5, R.bottom() - top - bottom - gap));
  // The square centred in the width left over.
  const double x0 = R.left() + left + std::max(0.0, (R.width() - left - pad * 0.5 - side) / 2);
  L.plot = QRectF(x0, top + gap, side, side);
  if (!L.legend.isEmpty()) L.legend.setLeft(L.plot.left());
  return L;
}

void paintRoc(QPainter& p, const QRectF& rect, const RocFigure& f, const FigureStyle& style) {
  const RocLayout L = layoutRoc(f, rect, style);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, f.title, style);
  if (!L.legend.isEmpty()) {
    std::vector<LegendEntry> entries;
    for (const RocCurve& c : f.curves) entries.push_back({rocLegendText(c), c.color, true});
    entries.push_back({QObject::tr("chance (AUC 0.5)"), style.muted, true});
    paintLegend(p, L.legend, L.plot.left(), entries, style);
  }
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  const double tick = style.fontPx * 0.3, gap = style.fontPx * 0.3;
  paintValueGrid(p, L.plot, 0, 1, tick + gap, style);
  // Vertical grid lines and the x tick labels at the same values.
  p.setFont(font);
  const int count = std::clamp(int(L.plot.height() / (fm.height() * 2)), 2, 8);
  for (double v : valueTicks(0, 1, count)) {
    const double x = L.plot.left() + v * L.plot.width();
    p.setPen(QPen(QColor(228, 228, 228), 1.0));
    p.drawLine(QPointF(x, L.plot.top()), QPointF(x, L.plot.bottom()));
    p.setPen(style.text);
    const QString text = formatValue(v);
    const double w = fm.horizontalAdvance(text) + 4;
    p.drawText(QRectF(x - w / 2, L.plot.bottom() + tick, w, fm.height()), Qt::AlignCenter, text);
  }
  p.setPen(QPen(style.muted, std::max(1.0, style.fontPx * 0.1), Qt::DashLine));
  p.drawLine(L.toCanvas(0, 0), L.toCanvas(1, 1));
  const double width = std::max(1.8, style.fontPx * 0.18);
  for (const RocCurve& c : f.curves) {
    QPainterPath path;
    for (size_t i = 0; i < c.points.size(); ++i) {
      const QPointF pt = L.toCanvas(c.points[i].first, c.points[i].second);
      i == 0 ? path.moveTo(pt) : path.lineTo(pt);
    }
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(c.color, width));
    p.drawPath(path);
  }
  if (f.curves.empty() && !f.empty.isEmpty()) {
    p.setPen(style.muted);
    p.setFont(style.font(0.95));
    p.drawText(L.plot.adjusted(gap, gap, -gap, -gap), Qt::AlignCenter | Qt::TextWordWrap, f.empty);
  }
  p.setPen(QPen(style.frame, 1.0));
  p.setBrush(Qt::NoBrush);
  p.drawRect(L.plot);
  // Axis titles.
  p.setFont(style.font(0.95));
  p.setPen(style.muted);
  const double titleH = QFontMetricsF(p.font()).height();
  p.drawText(
      QRectF(L.plot.left(), L.plot.bottom() + tick + fm.height() + gap, L.plot.width(), titleH),
      Qt::AlignCenter, QObject::tr("false-positive rate"));
  // Beside the tick labels (the square plot may be centred far from the figure's left edge).
  const double labelsW = valueTickWidth(0, 1, fm) + tick + gap;
  drawVerticalText(p,
                   QPointF(std::max(rect.left() + style.pad() + titleH / 2,
                                    L.plot.left() - labelsW - gap - titleH / 2),
                           L.plot.center().y()),
                   QObject::tr("true-positive rate"));
  p.restore();
}

}  // namespace mechscope
