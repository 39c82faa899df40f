#include "views/circuit_graph_figure.h"

#include <QFontMetricsF>
#include <QObject>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "views/color_bar.h"

namespace mechscope {
namespace {

const QColor kEdgeColor(31, 119, 180);
const QColor kRingColor(214, 39, 40);

}  // namespace

int CircuitGraphLayout::nodeAt(const QPointF& pos) const {
  if (dx <= 0 || dy <= 0 || !plot.contains(pos)) return -1;
  const int l = std::clamp(int((pos.x() - plot.left()) / dx), 0, layers - 1);
  const int h = std::clamp(int((pos.y() - plot.top()) / dy), 0, heads - 1);
  const QPointF d = pos - nodeCenter(l, h);
  return std::hypot(d.x(), d.y()) <= radius * 1.25 ? l * heads + h : -1;
}

CircuitGraphLayout layoutCircuitGraph(const CircuitGraphFigure& f, const QRectF& rect,
                                      const FigureStyle& style) {
  CircuitGraphLayout L;
  L.layers = std::max(1, f.layers);
  L.heads = std::max(1, f.heads);
  const QFontMetricsF fm(style.font(0.85));
  const double pad = style.pad(), gap = style.fontPx * 0.3;
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  L.title = QRectF(R.left(), R.top(), R.width(), titleHeight(f.title, style));
  L.legend = QRectF(R.left(), L.title.bottom(), R.width(), fm.height() * 1.3);
  const double barW = colorBarWidth(f.scale, f.nodeTitle, style);
  double labelW = 0;
  for (const QString& s : f.headLabels) labelW = std::max(labelW, fm.horizontalAdvance(s));
  const double axisTitleH = QFontMetricsF(style.font(0.95)).height() + gap;
  const double left = labelW + gap * 2 + axisTitleH;
  const double bottom = fm.height() + gap * 2 + axisTitleH;
  L.plot = QRectF(R.left() + left, L.legend.bottom() + gap,
                  std::max(10.0, R.width() - left - barW - pad),
                  std::max(10.0, R.bottom() - L.legend.bottom() - gap - bottom));
  L.colorBar = QRectF(L.plot.right() + pad, L.plot.top(), barW, L.plot.height());
  L.dx = L.plot.width() / L.layers;
  L.dy = L.plot.height() / L.heads;
  L.radius = std::max(2.0, std::min({L.dx * 0.22, L.dy * 0.32, style.fontPx * 2.0}));
  L.legend.setLeft(L.plot.left());
  return L;
}

void paintCircuitGraph(QPainter& p, const QRectF& rect, const CircuitGraphFigure& f,
                       const FigureStyle& style) {
  const CircuitGraphLayout L = layoutCircuitGraph(f, rect, style);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, f.title, style);
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  const double gap = style.fontPx * 0.3;

  // Legend: the ring, then an edge swatch.
  p.setFont(font);
  {
    const double y = L.legend.center().y(), s = fm.height() * 0.35;
    double x = L.legend.left() + s;
    p.setPen(QPen(kRingColor, std::max(1.5, style.fontPx * 0.18)));
    p.setBrush(Qt::NoBrush);
    p.drawEllipse(QPointF(x, y), s, s);
    x += s * 2;
    p.setPen(style.text);
    double w = fm.horizontalAdvance(f.highlightName);
    p.drawText(QRectF(x, L.legend.top(), w + 2, L.legend.height()),
               Qt::AlignLeft | Qt::AlignVCenter, f.highlightName);
    x += w + style.fontPx * 1.5;
    p.setPen(QPen(kEdgeColor, std::max(1.5, style.fontPx * 0.2)));
    p.drawLine(QPointF(x, y), QPointF(x + s * 4, y));
    x += s * 4 + gap * 2;
    p.setPen(style.text);
    w = fm.horizontalAdvance(f.edgeName);
    p.drawText(QRectF(x, L.legend.top(), w + 2, L.legend.height()),
               Qt::AlignLeft | Qt::AlignVCenter, f.edgeName);
  }

  // Layer columns, lightly banded.
  for (int l = 0; l < L.layers; l += 2)
    p.fillRect(QRectF(L.plot.left() + l * L.dx, L.plot.top(), L.dx, L.plot.height()),
               QColor(0, 0, 0, 10));

  // Edges, weakest first so the strongest lie on top; longer ones bow further.
  std::vector<GraphEdge> edges = f.edges;
  std::stable_sort(edges.begin(), edges.end(),
                   [](const GraphEdge& a, const GraphEdge& b) { return a.value < b.value; });
  const double maxW = std::max(1.5, L.radius * 0.55);
  p.setBrush(Qt::NoBrush);
  for (const GraphEdge& e : edges) {
    const int n = L.layers * L.heads;
    if (e.from < 0 || e.to < 0 || e.from >= n || e.to >= n) continue;
    const double t = f.edgeMax > 0 ? std::clamp(e.value / f.edgeMax, 0.0, 1.0) : 1.0;
    QColor c = kEdgeColor;
    c.setAlpha(int(50 + 170 * t));
    p.setPen(QPen(c, 0.8 + (maxW - 0.8) * t, Qt::SolidLine, Qt::RoundCap));
    const QPointF a = L.nodeCenter(e.from / L.heads, e.from % L.heads);
    const QPointF b = L.nodeCenter(e.to / L.heads, e.to % L.heads);
    const QPointF mid = (a + b) / 2, d = b - a;
    const double span = std::abs(e.to / L.heads - e.from / L.heads);
    const double bow = span > 1 ? 0.12 * (span - 1) : 0.0;
    const QPointF ctrl = mid + QPointF(-d.y(), d.x()) * bow;
    QPainterPath path(a);
    path.quadTo(ctrl, b);
    p.drawPath(path);
  }

  // Nodes.
  const double ring = std::max(1.5, L.radius * 0.22);
  for (int l = 0; l < L.layers; ++l)
    for (int h = 0; h < L.heads; ++h) {
      const size_t i = size_t(l) * L.heads + h;
      const QPointF c = L.nodeCenter(l, h);
      const double v = i < f.nodeValue.size() ? f.nodeValue[i] : NAN;
      p.setPen(QPen(style.frame, 1.0));
      p.setBrush(std::isfinite(v) ? f.scale.color(v) : QColor(235, 235, 235));
      p.drawEllipse(c, L.radius, L.radius);
      if (i < f.highlighted.size() && f.highlighted[i]) {
        p.setPen(QPen(kRingColor, ring));
        p.setBrush(Qt::NoBrush);
        p.drawEllipse(c, L.radius + ring, L.radius + ring);
      }
    }

  // Axis labels and titles.
  p.setFont(font);
  p.setPen(style.text);
  for (int h = 0; h < L.heads && h < f.headLabels.size(); ++h)
    p.drawText(QRectF(rect.left(), L.nodeCenter(0, h).y() - fm.height() / 2,
                      L.plot.left() - rect.left() - gap * 2, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, f.headLabels[h]);
  for (int l = 0; l < L.layers && l < f.layerLabels.size(); ++l)
    drawElidedText(p, QRectF(L.plot.left() + l * L.dx, L.plot.bottom() + gap, L.dx, fm.height()),
                   f.layerLabels[l], Qt::AlignCenter);
  p.setFont(style.font(0.95));
  p.setPen(style.muted);
  const double titleH = QFontMetricsF(p.font()).height();
  p.drawText(QRectF(L.plot.left(), L.plot.bottom() + gap * 2 + fm.height(), L.plot.width(), titleH),
             Qt::AlignCenter, QObject::tr("layer"));
  drawVerticalText(p, QPointF(rect.left() + style.pad() + titleH / 2, L.plot.center().y()),
                   QObject::tr("head"));
  paintColorBar(p, L.colorBar, f.scale, f.nodeTitle, style);
  p.restore();
}

}  // namespace mechscope
