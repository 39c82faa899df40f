// HeadSvdView: the figure — the copying-score grid with the selected head outlined, beside the
// head's singular-value spectrum and its leading OV components' read → write tokens.
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/head_svd_view.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kGridShare = 0.38;      // of the width
constexpr double kSpectrumShare = 0.55;  // of the right column's height

}  // namespace

QString HeadSvdView::figureTitle() const {
  return resultTitle(*result_) + QStringLiteral(" — ") + headName() +
         (qk_ ? QStringLiteral(" QK") : QStringLiteral(" OV"));
}

HeatmapFigure HeadSvdView::gridFigure() const {
  HeatmapFigure f;
  f.title = tr("Copying score");
  f.xTitle = tr("head");
  f.yTitle = tr("layer");
  f.xLabels = headLabels_;
  f.yLabels = layerLabels_;
  f.matrix = {copying_->data.data(), layers_, heads_, heads_};
  ColorScale s;
  s.kind = ColorScale::Kind::Diverging;
  s.autoRange = false;
  s.min = -1;
  s.max = 1;
  f.scale = s;
  f.colorBarTitle = tr("Σλ / Σ|λ|");
  return f;
}

BarFigure HeadSvdView::spectrumFigure() const {
  BarFigure f;
  f.title = tr("%1 singular values").arg(headName());
  f.xTitle = tr("component");
  const std::vector<double> chosen = spectrum(qk_), other = spectrum(!qk_);
  for (size_t c = 0; c < chosen.size(); ++c) f.categories << QStringLiteral("C%1").arg(c);
  f.series = {{qk_ ? tr("QK") : tr("OV"), seriesColor(qk_ ? 1 : 0), chosen}};
  f.yTitle = qk_ ? tr("QK σ") : tr("OV σ");
  if (!other.empty()) {
    f.line = {qk_ ? tr("OV") : tr("QK"), seriesColor(qk_ ? 0 : 1), other};
    f.lineTitle = qk_ ? tr("OV σ") : tr("QK σ");
  }
  f.annotate = false;
  return f;
}

HeadSvdView::Layout HeadSvdView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  L.title = QRectF(rect.left() + pad, rect.top() + pad * 0.8, rect.width() - 2 * pad,
                   titleHeight(figureTitle(), style));
  const double top = L.title.bottom(), h = rect.bottom() - top;
  const double gridW = rect.width() * kGridShare;
  L.grid = QRectF(rect.left(), top, gridW, h);
  L.spectrum = QRectF(rect.left() + gridW, top, rect.width() - gridW, h * kSpectrumShare);
  L.tokens = QRectF(L.spectrum.left() + pad, L.spectrum.bottom(), L.spectrum.width() - 2 * pad,
                    rect.bottom() - L.spectrum.bottom() - pad * 0.8);
  L.lineHeight = QFontMetricsF(style.font(0.85)).height() * 1.25;
  L.lines = std::max(0, int(L.tokens.height() / L.lineHeight) - 1);
  return L;
}

void HeadSvdView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, figureTitle(), style);
  const HeatmapFigure grid = gridFigure();
  paintHeatmap(p, L.grid, grid, style);
  p.setPen(QPen(style.text, std::max(2.0, style.fontPx * 0.2)));
  p.setBrush(Qt::NoBrush);
  p.drawRect(layoutHeatmap(grid, L.grid, style).cellRect(layer_, head_));
  paintBars(p, L.spectrum, spectrumFigure(), style);

  const QStringList lines = componentLines();
  p.setFont(style.font(0.95, true));
  p.setPen(style.text);
  drawElidedText(p, QRectF(L.tokens.left(), L.tokens.top(), L.tokens.width(), L.lineHeight),
                 lines.isEmpty() ? tr("No token lists in this result")
                                 : tr("OV components: tokens read (W_E) → written (W_U)"),
                 Qt::AlignLeft | Qt::AlignVCenter);
  p.setFont(style.font(0.85));
  for (int i = 0; i < std::min<int>(L.lines, lines.size()); ++i)
    drawElidedText(p,
                   QRectF(L.tokens.left(), L.tokens.top() + (i + 1) * L.lineHeight,
                          L.tokens.width(), L.lineHeight),
                   lines[i], Qt::AlignLeft | Qt::AlignVCenter);
  p.restore();
}

int HeadSvdView::figureHeightForWidth(int width) const { return width * 3 / 5; }

QString HeadSvdView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  const HeatmapFigure grid = gridFigure();
  const QPoint c = layoutHeatmap(grid, L.grid, style).cellAt(pos);
  if (c.x() >= 0)
    return tr("%1%2: copying score %3")
        .arg(layerLabels_[c.y()], headLabels_[c.x()], exactValue(grid.matrix.at(c.y(), c.x())));
  const BarFigure f = spectrumFigure();
  const int i = layoutBars(f, L.spectrum, style).categoryAt(pos);
  if (i >= 0) {
    const QStringList lines = componentLines();
    return barDescription(f, i) + (i < lines.size() ? QStringLiteral("\n") + lines[i] : QString());
  }
  if (L.tokens.contains(pos)) {
    const int line = int((pos.y() - L.tokens.top()) / L.lineHeight) - 1;
    const QStringList lines = componentLines();
    if (line >= 0 && line < lines.size()) return lines[line];
  }
  return {};
}

QRect HeadSvdView::headCellRect(int layer, int head) const {
  if (layer < 0 || layer >= layers_ || head < 0 || head >= heads_) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutHeatmap(gridFigure(), layout(rect).grid, style).cellRect(layer, head).toRect();
}

}  // namespace mechscope
