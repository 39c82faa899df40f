// KnockoutView: the figure — the relative-change curves with the selected layer's window shaded
// and, for information_flow, the image with the patch grid, the selected layer's patch relevance
// overlaid and the knocked-out regions outlined; hit-testing and tooltips.
#include <QFontMetricsF>
#include <QImage>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/color_bar.h"
#include "views/figure_style.h"
#include "views/knockout_view.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kChartShare = 0.58;  // of the width, beside the patch panel
constexpr int kOverlayAlpha = 140;    // of the relevance colours over the image

QImage imageOf(const Array& a) {
  const int h = static_cast<int>(a.shape[0]), w = static_cast<int>(a.shape[1]);
  QImage image(w, h, QImage::Format_RGB32);
  auto channel = [](float v) {
    return std::isfinite(v) ? std::clamp(static_cast<int>(std::lround(v * 255.0f)), 0, 255) : 0;
  };
  for (int y = 0; y < h; ++y) {
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
    const float* px = a.data.data() + int64_t(y) * w * 3;
    for (int x = 0; x < w; ++x, px += 3)
      line[x] = qRgb(channel(px[0]), channel(px[1]), channel(px[2]));
  }
  return image;
}

}  // namespace

QString KnockoutView::figureTitle() const { return resultTitle(*result_); }

QString KnockoutView::caption() const {
  QStringList parts;
  if (auto p = metaNumber(*result_, "p_clean")) parts << tr("p_clean %1").arg(formatValue(*p, 3));
  parts << tr("window %1 layer(s)").arg(window_);
  parts << tr("%1 %2 (shaded)").arg(layerLabels_[layer_], blockedText(layer_));
  if (relevance_) parts << tr("regions of %1 × %1 patch(es)").arg(region_);
  return parts.join(QStringLiteral(" · "));
}

LineFigure KnockoutView::chartFigure() const {
  LineFigure f;
  f.xTitle = tr("layer (window centre)");
  f.yTitle = tr("relative change of p(answer) (%)");
  f.categories = layerLabels_;
  f.series = series_;
  const std::vector<int> blocked = blockedLayers();
  if (!blocked.empty()) {
    f.band.first = blocked.front();
    f.band.last = blocked.back();
  }
  f.marked = layer_;
  return f;
}

ColorScale KnockoutView::patchScale() const {
  ColorScale s;
  s.kind = ColorScale::Kind::Diverging;
  return s.resolved(-maxRelevance_, maxRelevance_);
}

KnockoutView::Layout KnockoutView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  const FigureHeading heading = layoutHeading(rect, figureTitle(), style);
  L.title = heading.title;
  L.caption = heading.caption;
  const double top = L.caption.bottom();
  if (!relevance_) {
    L.chart = QRectF(rect.left(), top, rect.width(), rect.bottom() - top);
    return L;
  }
  L.chart = QRectF(rect.left(), top, rect.width() * kChartShare, rect.bottom() - top);
  const QRectF panel(L.chart.right() + pad, top, rect.right() - L.chart.right() - 2 * pad,
                     rect.bottom() - top - pad * 0.8);
  L.panelTitle = QRectF(panel.left(), panel.top(), panel.width(),
                        QFontMetricsF(style.font(0.95, true)).height() * 1.4);
  const double barW = colorBarWidth(patchScale(), tr("%"), style) + pad;
  const double side =
      std::max(0.0, std::min(panel.width() - barW, panel.bottom() - L.panelTitle.bottom()));
  L.image = QRectF(panel.left() + std::max(0.0, (panel.width() - barW - side) / 2),
                   L.panelTitle.bottom(), side, side);
  L.colorBar = QRectF(L.image.right() + pad, L.image.top(), barW - pad, side);
  return L;
}

QRectF KnockoutView::patchRectIn(const QRectF& image, int row, int col) const {
  const double s = image.width() / side_;
  return QRectF(image.left() + col * s, image.top() + row * s, s, s);
}

void KnockoutView::paintPatches(QPainter& p, const Layout& L, const FigureStyle& style) const {
  p.setFont(style.font(0.95, true));
  p.setPen(style.text);
  drawElidedText(p, L.panelTitle, tr("Patch relevance at %1").arg(layerLabels_[layer_]),
                 Qt::AlignHCenter | Qt::AlignVCenter);
  if (L.image.width() < 2) return;
  if (image_) {
    p.save();
    p.setRenderHint(QPainter::SmoothPixmapTransform, true);
    p.drawImage(L.image, imageOf(*image_));
    p.restore();
  }
  const ColorScale scale = patchScale();
  for (int r = 0; r < side_; ++r)
    for (int c = 0; c < side_; ++c) {
      QColor color = scale.color(patchRelevance(r, c));
      if (image_) color.setAlpha(kOverlayAlpha);
      p.fillRect(patchRectIn(L.image, r, c), color);
    }
  // The patch grid thin, the regions knocked out together thick.
  const double step = L.image.width() / side_;
  p.setBrush(Qt::NoBrush);
  auto gridLine = [&](int i) {
    const double o = i * step;
    p.drawLine(QPointF(L.image.left() + o, L.image.top()),
               QPointF(L.image.left() + o, L.image.bottom()));
    p.drawLine(QPointF(L.image.left(), L.image.top() + o),
               QPointF(L.image.right(), L.image.top() + o));
  };
  p.setPen(QPen(QColor(255, 255, 255, 140), 1.0));
  for (int i = 1; i < side_; ++i)
    if (i % region_ != 0) gridLine(i);
  p.setPen(QPen(style.text, std::max(1.5, style.fontPx * 0.16)));
  for (int i = region_; i < side_; i += region_) gridLine(i);
  p.drawRect(L.image);
  paintColorBar(p, L.colorBar, scale, tr("relative change (%)"), style);
}

void KnockoutView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintHeading(p, {L.title, L.caption}, figureTitle(), caption(), style);
  paintLines(p, L.chart, chartFigure(), style);
  if (relevance_) paintPatches(p, L, style);
  p.restore();
}

int KnockoutView::figureHeightForWidth(int width) const {
  return relevance_ ? width * 11 / 20 : width / 2;
}

QString KnockoutView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  const LineFigure f = chartFigure();
  const int l = layoutLines(f, L.chart, style).categoryAt(pos);
  if (l >= 0) {
    return lineDescription(f, l) + QStringLiteral(" (%)\n") + blockedText(l);
  }
  if (relevance_ && L.image.contains(pos)) {
    const double step = L.image.width() / side_;
    const int c = std::clamp(int((pos.x() - L.image.left()) / step), 0, side_ - 1);
    const int r = std::clamp(int((pos.y() - L.image.top()) / step), 0, side_ - 1);
    return tr("patch r%1c%2 (region r%3c%4) at %5: %6%")
        .arg(r)
        .arg(c)
        .arg(r / region_)
        .arg(c / region_)
        .arg(layerLabels_[layer_], formatValue(patchRelevance(r, c), 4));
  }
  return {};
}

void KnockoutView::canvasClicked(const QPoint& pos) {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const int l = layoutLines(chartFigure(), layout(rect).chart, style).categoryAt(pos);
  if (l < 0 || l == layer_) return;
  layer_ = l;
  userChanged();
}

QRect KnockoutView::layerRect(int layer) const {
  if (layer < 0 || layer >= layers_) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutLines(chartFigure(), layout(rect).chart, style).slotRect(layer).toRect();
}

QRect KnockoutView::bandRect() const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const LineFigure f = chartFigure();
  return layoutLines(f, layout(rect).chart, style).bandRect(f.band, layers_).toRect();
}

QRect KnockoutView::patchRect(int row, int col) const {
  if (!relevance_ || row < 0 || col < 0 || row >= side_ || col >= side_) return {};
  const QRectF rect = canvas()->rect();
  return patchRectIn(layout(rect).image, row, col).toRect();
}

}  // namespace mechscope
