// AttentionView: the figure — layouts of the three modes, painting, hit-testing and tooltips.
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <limits>

#include "views/attention_view.h"
#include "views/axis_labels.h"
#include "views/color_bar.h"

namespace mechscope {
namespace {

const QString kBarTitle = QStringLiteral("attention weight");
constexpr int64_t kGridVectorCells = 120000;  // cells drawn as rectangles in a grid figure
constexpr double kPanelLabelScale = 0.7;      // token labels beside head panels, × fontPx
constexpr double kPanelLabelEms = 6;          // longer ones are elided

QFont panelLabelFont(const FigureStyle& style) { return style.font(kPanelLabelScale); }

QString panelLabel(const QString& label, const QFontMetricsF& fm, const FigureStyle& style) {
  return fm.elidedText(label, Qt::ElideRight, style.fontPx * kPanelLabelScale * kPanelLabelEms);
}

}  // namespace

MatrixRef AttentionView::headMatrix(int layer, int head) const {
  MatrixRef m;
  m.data = pattern_->data.data() + (int64_t(layer) * heads_ + head) * int64_t(queries_) * keys_;
  m.rows = queries_;
  m.cols = keys_;
  m.rowStride = keys_;
  return m.block(q0_, k0_, q1_ - q0_ + 1, k1_ - k0_ + 1);
}

ColorScale AttentionView::resolvedScale() const {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int l : shownLayers())
    for (int h : shownHeads()) {
      if (mode_ != Mode::All && l != layer_) continue;
      if (mode_ == Mode::Head && h != head_) continue;
      const auto [a, b] = headMatrix(l, h).range();
      lo = std::min(lo, a);
      hi = std::max(hi, b);
    }
  return scale_.resolved(lo, hi);
}

QString AttentionView::layerName(int layer) const {
  return layerLabels_.isEmpty() ? QStringLiteral("L%1").arg(layer) : layerLabels_[layer];
}

QString AttentionView::headShortName(int head) const {
  return headLabels_.isEmpty() ? QStringLiteral("H%1").arg(head) : headLabels_[head];
}

QString AttentionView::headName(int layer, int head) const {
  return layerName(layer) + headShortName(head);
}

QString AttentionView::figureTitle() const {
  QString base = QString::fromStdString(result_->title.empty() ? result_->id : result_->title);
  switch (mode_) {
    case Mode::Layer:
      return tr("%1 — layer %2").arg(base).arg(layer_);
    case Mode::Head:
      return tr("%1 — layer %2, head %3").arg(base).arg(layer_).arg(head_);
    default:
      return base;
  }
}

HeatmapFigure AttentionView::headFigure(const ColorScale& scale) const {
  HeatmapFigure f;
  f.title = figureTitle();
  f.xTitle = tr("key");
  f.yTitle = tr("query");
  f.matrix = headMatrix(layer_, head_);
  for (int k = k0_; k <= k1_; ++k) f.xLabels << labelOrIndex(keyLabels_, k);
  for (int q = q0_; q <= q1_; ++q) f.yLabels << labelOrIndex(queryLabels_, q);
  f.scale = scale;
  f.colorBarTitle = kBarTitle;
  f.annotate = false;  // attention heatmaps read by colour; the tooltip gives numbers
  return f;
}

AttentionView::Grid AttentionView::gridLayout(const QRectF& rect, const FigureStyle& style,
                                              const ColorScale& scale) const {
  Grid g;
  const double pad = style.pad();
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  const double titleH = titleHeight(figureTitle(), style);
  const double barGap = style.fontPx * 1.2;
  const double barW = colorBarWidth(scale, kBarTitle, style);
  const QRectF area(R.left(), R.top() + titleH, R.width() - barGap - barW, R.height() - titleH);
  const QFontMetricsF fm(style.font(0.8));
  const double captionH = fm.height() + style.fontPx * 0.15;
  const double nq = q1_ - q0_ + 1, nk = k1_ - k0_ + 1;

  const std::vector<int> layers = shownLayers(), heads = shownHeads();
  int cols = 1, rows = 1;
  double labelW = 0, cell = 0, gap = style.fontPx * 0.6;
  double qW = 0, kH = 0;  // token labels beside each panel (one-layer grid, when they fit)
  if (mode_ == Mode::All) {
    cols = static_cast<int>(heads.size());
    rows = static_cast<int>(layers.size());
    for (int l : layers) labelW = std::max(labelW, fm.horizontalAdvance(layerName(l)));
    labelW += style.fontPx * 0.5;
    gap = std::clamp(std::min(area.width() / cols, area.height() / rows) * 0.08, 1.0,
                     style.fontPx * 0.4);
    cell = std::min((area.width() - labelW - (cols - 1) * gap) / cols / nk,
                    (area.height() - captionH - (rows - 1) * gap) / rows / nq);
  } else {
    // One layer's heads: the column count that makes the thumbnails largest.
    const int n = static_cast<int>(heads.size());
    auto arrange = [&](double lw, double lh) {
      cell = 0;
      for (int c = 1; c <= n; ++c) {
        const int r = (n + c - 1) / c;
        const double s = std::min((area.width() - (c - 1) * gap - c * lw) / c / nk,
                                  (area.height() - r * (captionH + lh) - (r - 1) * gap) / r / nq);
        if (s > cell) {
          cell = s;
          cols = c;
          rows = r;
        }
      }
    };
    const QFontMetricsF lfm(panelLabelFont(style));
    for (int q = q0_; q <= q1_; ++q)
      qW = std::max(qW,
                    lfm.horizontalAdvance(panelLabel(labelOrIndex(queryLabels_, q), lfm, style)));
    for (int k = k0_; k <= k1_; ++k)
      kH = std::max(kH, lfm.horizontalAdvance(panelLabel(labelOrIndex(keyLabels_, k), lfm, style)));
    qW += style.fontPx * 0.4;
    kH += style.fontPx * 0.4;
    arrange(qW, kH);
    g.tokenLabels = cell >= lfm.height() * 0.95;
    if (!g.tokenLabels) {
      qW = kH = 0;
      arrange(0, 0);
    }
  }
  cell = std::max(cell, 0.0);
  const double tw = cell * nk, th = cell * nq;
  const bool all = mode_ == Mode::All;
  const double gridW = (all ? labelW : 0) + cols * (qW + tw) + (cols - 1) * gap;
  const double gridH = all ? captionH + rows * th + (rows - 1) * gap
                           : rows * (captionH + th + kH) + (rows - 1) * gap;
  const double x0 = area.left() + std::max(0.0, (area.width() - gridW) / 2);
  const double y0 = area.top() + std::max(0.0, (area.height() - gridH) / 2);
  const double cx0 = x0 + (all ? labelW : 0);
  g.title = QRectF(R.left(), y0 - titleH, R.width(), titleH);  // moves with the grid

  if (all) {
    for (int c = 0; c < cols; ++c)
      g.headers.push_back({QRectF(cx0 + c * (tw + gap), y0, tw, captionH), headShortName(heads[c]),
                           Qt::AlignHCenter | Qt::AlignTop});
    for (int r = 0; r < rows; ++r) {
      const double y = y0 + captionH + r * (th + gap);
      g.headers.push_back({QRectF(x0, y, labelW - style.fontPx * 0.5, th), layerName(layers[r]),
                           Qt::AlignRight | Qt::AlignVCenter});
      for (int c = 0; c < cols; ++c)
        g.thumbs.push_back(
            {layers[r], heads[c], QRectF(cx0 + c * (tw + gap), y, tw, th), QRectF()});
    }
  } else {
    for (size_t i = 0; i < heads.size(); ++i) {
      const double x = cx0 + (i % cols) * (qW + tw + gap) + qW;
      const double y = y0 + (i / cols) * (captionH + th + kH + gap);
      g.thumbs.push_back(
          {layer_, heads[i], QRectF(x, y + captionH, tw, th), QRectF(x, y, tw, captionH)});
    }
  }
  const double top = y0 + captionH;
  const double barH = std::max(std::min(gridH - captionH, area.bottom() - top),
                               std::min(style.fontPx * 10, area.bottom() - top));
  g.colorBar = QRectF(area.right() + barGap, top, barW, std::max(0.0, barH));
  g.naturalHeight = 1.6 * pad + titleH + std::max(gridH, captionH + style.fontPx * 10);
  return g;
}

void AttentionView::paintGrid(QPainter& p, const QRectF& rect, const FigureStyle& style) const {
  const ColorScale scale = resolvedScale();
  const Grid g = gridLayout(rect, style, scale);
  paintTitle(p, g.title, figureTitle(), style);
  p.setFont(style.font(0.8));
  // Vector cells while the whole grid stays a reasonable file; images beyond that.
  const int64_t perThumb = kGridVectorCells / std::max<int64_t>(1, int64_t(g.thumbs.size()));
  for (const Thumb& t : g.thumbs) {
    paintCells(p, t.cells, headMatrix(t.layer, t.head), scale, style, false, perThumb);
    if (!t.caption.isNull()) {
      p.setPen(style.text);
      drawElidedText(p, t.caption, headShortName(t.head), Qt::AlignHCenter | Qt::AlignTop);
    }
    if (g.tokenLabels) {
      paintTokenLabels(p, t.cells, style);
      p.setFont(style.font(0.8));
    }
  }
  p.setPen(style.text);
  for (const Grid::Header& h : g.headers) drawElidedText(p, h.rect, h.text, h.align);
  paintColorBar(p, g.colorBar, scale, kBarTitle, style);
}

void AttentionView::paintTokenLabels(QPainter& p, const QRectF& cells,
                                     const FigureStyle& style) const {
  p.save();
  p.setFont(panelLabelFont(style));
  p.setPen(style.text);
  const QFontMetricsF fm(p.font());
  const double nq = q1_ - q0_ + 1, nk = k1_ - k0_ + 1, gap = style.fontPx * 0.25;
  const double ch = cells.height() / nq, cw = cells.width() / nk, w = style.fontPx * 8;
  for (int q = q0_; q <= q1_; ++q)
    p.drawText(QRectF(cells.left() - gap - w, cells.top() + (q - q0_) * ch, w, ch),
               Qt::AlignRight | Qt::AlignVCenter,
               panelLabel(labelOrIndex(queryLabels_, q), fm, style));
  for (int k = k0_; k <= k1_; ++k) {
    p.save();
    p.translate(cells.left() + (k - k0_ + 0.5) * cw, cells.bottom() + gap);
    p.rotate(-90);
    p.drawText(QRectF(-w, -cw / 2, w, cw), Qt::AlignRight | Qt::AlignVCenter,
               panelLabel(labelOrIndex(keyLabels_, k), fm, style));
    p.restore();
  }
  p.restore();
}

bool AttentionView::gridHasTokenLabels(const QRectF& rect) const {
  if (mode_ != Mode::Layer) return false;
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return gridLayout(rect, style, resolvedScale()).tokenLabels;
}

void AttentionView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  if (mode_ == Mode::Head)
    paintHeatmap(p, rect, headFigure(resolvedScale()), style);
  else
    paintGrid(p, rect, style);
  p.restore();
}

int AttentionView::figureHeightForWidth(int width) const {
  const ColorScale scale = resolvedScale();
  if (mode_ == Mode::Head) return heatmapHeightForWidth(headFigure(scale), width);
  // One layer's heads arrange themselves for a landscape 4:3 page (papers are wider than tall);
  // all heads have a fixed grid, so only the width limits them. The text size depends on the
  // height: settle it in two rounds.
  const double probe = mode_ == Mode::All ? width * 3.0 : width * 0.75;
  double height = width;
  for (int round = 0; round < 2; ++round)
    height = gridLayout(QRectF(0, 0, width, probe), FigureStyle::forSize(width, height), scale)
                 .naturalHeight;
  return static_cast<int>(std::ceil(std::clamp(height, width * 0.3, width * 2.0)));
}

AttentionView::Hit AttentionView::hitTest(const QRectF& rect, const QPointF& pos) const {
  Hit hit;
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  if (mode_ == Mode::Head) {
    const HeatmapLayout L = layoutHeatmap(headFigure(resolvedScale()), rect, style);
    const QPoint c = L.cellAt(pos);
    if (c.x() < 0) return hit;
    return {layer_, head_, q0_ + c.y(), k0_ + c.x()};
  }
  for (const Thumb& t : gridLayout(rect, style, resolvedScale()).thumbs) {
    if (!t.cells.contains(pos)) continue;
    const int nq = q1_ - q0_ + 1, nk = k1_ - k0_ + 1;
    const int k = std::clamp(int((pos.x() - t.cells.left()) / t.cells.width() * nk), 0, nk - 1);
    const int q = std::clamp(int((pos.y() - t.cells.top()) / t.cells.height() * nq), 0, nq - 1);
    return {t.layer, t.head, q0_ + q, k0_ + k};
  }
  return hit;
}

QString AttentionView::toolTipAt(const QPoint& pos) const {
  const Hit hit = hitTest(canvas()->rect(), pos);
  if (hit.layer < 0) return {};
  const float w =
      pattern_->data[((int64_t(hit.layer) * heads_ + hit.head) * queries_ + hit.query) * keys_ +
                     hit.key];
  return tr("%1 (layer %2, head %3)\nquery %4: “%5”\nkey %6: “%7”\nweight %8")
      .arg(headName(hit.layer, hit.head))
      .arg(hit.layer)
      .arg(hit.head)
      .arg(hit.query)
      .arg(labelOrIndex(queryLabels_, hit.query))
      .arg(hit.key)
      .arg(labelOrIndex(keyLabels_, hit.key))
      .arg(QString::number(w, 'f', 4));
}

QRect AttentionView::thumbnailRect(int layer, int head) const {
  if (mode_ == Mode::Head) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  for (const Thumb& t : gridLayout(rect, style, resolvedScale()).thumbs)
    if (t.layer == layer && t.head == head) return t.cells.toAlignedRect();
  return {};
}

QRect AttentionView::cellRect(int query, int key) const {
  if (mode_ != Mode::Head || query < q0_ || query > q1_ || key < k0_ || key > k1_) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const HeatmapLayout L = layoutHeatmap(headFigure(resolvedScale()), rect, style);
  return L.cellRect(query - q0_, key - k0_).toRect();
}

}  // namespace mechscope
