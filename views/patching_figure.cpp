// PatchingView: the figure — one heatmap, or attribution and activation patching side by side
// under a shared colour scale — with the clicked cell outlined; hit-testing and tooltips.
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <limits>

#include "views/figure_style.h"
#include "views/patching_view.h"
#include "views/probe_data.h"

namespace mechscope {

QString PatchingView::figureTitle() const {
  QString title = resultTitle(*result_);
  if (kind_ == Kind::Leading) title += QStringLiteral(" — ") + labels_[0][slice_];
  if (kind_ == Kind::Heads)
    title += QStringLiteral(" — ") + (slice_ < 0 ? tr("all heads") : labels_[2][slice_]);
  if (comparing() && std::isfinite(correlation_))
    title += tr(" (Pearson r = %1)").arg(QString::number(correlation_, 'f', 3));
  return title;
}

ColorScale PatchingView::resolvedScale() const {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  auto extend = [&](const std::vector<float>& v) {
    for (float x : v)
      if (std::isfinite(x)) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
  };
  extend(cells_);
  if (comparing()) extend(activation_);
  if (lo > hi) lo = hi = static_cast<float>(scale_.center);
  return scale_.resolved(lo, hi);
}

HeatmapFigure PatchingView::panelFigure(bool activation, const ColorScale& scale) const {
  HeatmapFigure f;
  if (comparing())
    f.title = activation ? tr("activation patching") : tr("attribution patching");
  else
    f.title = figureTitle();
  f.xTitle = colTitle_;
  f.yTitle = rowTitle_;
  f.xLabels = colLabels_;
  for (const Row& r : rows_) f.yLabels << r.label;
  const std::vector<float>& data = activation ? activation_ : cells_;
  f.matrix = {data.data(), rows(), cols(), cols()};
  f.scale = scale;
  f.colorBarTitle = valueTitle();
  return f;
}

PatchingView::Panels PatchingView::panels(const QRectF& rect, const FigureStyle& style) const {
  Panels P;
  if (!comparing()) {
    P.left = rect;
    return P;
  }
  const double titleH = titleHeight(figureTitle(), style) + style.pad() * 0.8;
  P.title = QRectF(rect.left() + style.pad(), rect.top() + style.pad() * 0.8,
                   rect.width() - 2 * style.pad(), titleH);
  const double top = rect.top() + titleH, half = rect.width() / 2;
  P.left = QRectF(rect.left(), top, half, rect.bottom() - top);
  P.right = QRectF(rect.left() + half, top, half, rect.bottom() - top);
  return P;
}

void PatchingView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const ColorScale scale = resolvedScale();
  const Panels P = panels(rect, style);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  if (comparing()) paintTitle(p, P.title, figureTitle(), style);
  for (bool activation : {false, true}) {
    const QRectF area = activation ? P.right : P.left;
    if (area.isEmpty()) continue;
    const HeatmapFigure f = panelFigure(activation, scale);
    paintHeatmap(p, area, f, style);
    // The clicked cell, outlined where it is drawn.
    for (int r = 0; r < rows() && cell_ >= 0; ++r)
      for (int c = 0; c < cols(); ++c)
        if (flatIndex(r, c) == cell_) {
          p.setPen(QPen(style.text, std::max(1.5, style.fontPx * 0.15)));
          p.setBrush(Qt::NoBrush);
          p.drawRect(layoutHeatmap(f, area, style).cellRect(r, c));
        }
  }
  p.restore();
}

int PatchingView::figureHeightForWidth(int width) const {
  const ColorScale scale = resolvedScale();
  if (!comparing()) return heatmapHeightForWidth(panelFigure(false, scale), width);
  const FigureStyle style = FigureStyle::forSize(width, width * 0.6);
  const double titleH = titleHeight(figureTitle(), style) + style.pad() * 0.8;
  return static_cast<int>(titleH) + heatmapHeightForWidth(panelFigure(false, scale), width / 2);
}

PatchingView::Hit PatchingView::hitTest(const QRectF& rect, const QPointF& pos) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const ColorScale scale = resolvedScale();
  const Panels P = panels(rect, style);
  for (bool activation : {false, true}) {
    const QRectF area = activation ? P.right : P.left;
    if (area.isEmpty() || !area.contains(pos)) continue;
    const QPoint c = layoutHeatmap(panelFigure(activation, scale), area, style).cellAt(pos);
    if (c.x() >= 0) return {c.y(), c.x(), activation};
  }
  return {};
}

QString PatchingView::toolTipAt(const QPoint& pos) const {
  const Hit hit = hitTest(canvas()->rect(), pos);
  return hit.row < 0 ? QString() : cellDescription(flatIndex(hit.row, hit.col));
}

QRect PatchingView::cellRect(int row, int col, bool activation) const {
  if (flatIndex(row, col) < 0 || (activation && !comparing())) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Panels P = panels(rect, style);
  return layoutHeatmap(panelFigure(activation, resolvedScale()), activation ? P.right : P.left,
                       style)
      .cellRect(row, col)
      .toRect();
}

}  // namespace mechscope
