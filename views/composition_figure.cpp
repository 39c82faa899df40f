// CompositionView: the figure — the sender × receiver matrix with the cells below the threshold
// faded, the baseline and threshold marked on the colour bar, and the strongest pairs listed.
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/color_bar.h"
#include "views/composition_view.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kListShare = 0.26;  // of the width, for the strongest pairs
const QColor kBaselineColor(44, 160, 44);
const QColor kThresholdColor(214, 39, 40);

}  // namespace

QString CompositionView::figureTitle() const {
  return resultTitle(*result_) + QStringLiteral(" — ") + QString::fromStdString(mode_).toUpper() +
         tr("-composition");
}

QString CompositionView::caption() const {
  QStringList parts;
  if (auto b = baseline()) parts << tr("random baseline %1 (green)").arg(formatValue(*b, 3));
  parts << tr("threshold %1 (red)").arg(formatValue(threshold_, 3));
  parts << tr("%1 pairs above").arg(strongestPairs().size());
  return parts.join(QStringLiteral(" · "));
}

HeatmapFigure CompositionView::matrixFigure() const {
  HeatmapFigure f;
  f.xTitle = tr("receiver head");
  f.yTitle = tr("sender head");
  f.xLabels = colLabels_;
  f.yLabels = rowLabels_;
  f.matrix = {cells_.data(), rows(), cols(), cols()};
  ColorScale s;
  s.kind = ColorScale::Kind::Sequential;
  f.scale = s.resolved(0, max_);
  f.colorBarTitle = tr("%1-composition score").arg(QString::fromStdString(mode_).toUpper());
  f.annotate = false;
  return f;
}

CompositionView::Layout CompositionView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  const FigureHeading heading = layoutHeading(rect, figureTitle(), style);
  L.title = heading.title;
  L.caption = heading.caption;
  const double top = L.caption.bottom();
  const double listW = rect.width() * kListShare;
  L.matrix = QRectF(rect.left(), top, rect.width() - listW, rect.bottom() - top);
  L.pairs = QRectF(L.matrix.right(), top + pad, listW - pad, rect.bottom() - top - 2 * pad);
  L.lineHeight = QFontMetricsF(style.font(0.85)).height() * 1.25;
  L.lines = std::max(0, int(L.pairs.height() / L.lineHeight) - 1);
  return L;
}

void CompositionView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintHeading(p, {L.title, L.caption}, figureTitle(), caption(), style);

  const HeatmapFigure f = matrixFigure();
  paintHeatmap(p, L.matrix, f, style);
  const HeatmapLayout H = layoutHeatmap(f, L.matrix, style);
  // Faded: a translucent white veil over the meaningful cells below the threshold.
  const QColor veil(255, 255, 255, 200);
  for (int r = 0; r < rows(); ++r)
    for (int c = 0; c < cols(); ++c)
      if (std::isfinite(cellValue(r, c)) && faded(r, c)) p.fillRect(H.cellRect(r, c), veil);
  if (auto b = baseline())
    paintColorBarMark(p, H.colorBar, f.scale, *b, QString(), kBaselineColor, style);
  paintColorBarMark(p, H.colorBar, f.scale, threshold_, QString(), kThresholdColor, style);

  const std::vector<Pair> pairs = strongestPairs(L.lines);
  p.setFont(style.font(0.95, true));
  p.setPen(style.text);
  drawElidedText(p, QRectF(L.pairs.left(), L.pairs.top(), L.pairs.width(), L.lineHeight),
                 tr("Strongest pairs"), Qt::AlignLeft | Qt::AlignVCenter);
  p.setFont(style.font(0.85));
  for (size_t i = 0; i < pairs.size(); ++i) {
    const QRectF line(L.pairs.left(), L.pairs.top() + (i + 1) * L.lineHeight, L.pairs.width(),
                      L.lineHeight);
    p.setPen(style.text);
    drawElidedText(p, line, QStringLiteral("%1 → %2").arg(pairs[i].sender, pairs[i].receiver),
                   Qt::AlignLeft | Qt::AlignVCenter);
    p.setPen(style.muted);
    p.drawText(line, Qt::AlignRight | Qt::AlignVCenter, formatValue(pairs[i].value, 3));
  }
  if (pairs.empty()) {
    p.setPen(style.muted);
    p.drawText(QRectF(L.pairs.left(), L.pairs.top() + L.lineHeight, L.pairs.width(), L.lineHeight),
               Qt::AlignLeft | Qt::AlignVCenter, tr("none above the threshold"));
  }
  p.restore();
}

int CompositionView::figureHeightForWidth(int width) const {
  const FigureStyle style = FigureStyle::forSize(width, width * 0.7);
  const double head = titleHeight(figureTitle(), style) + style.fontPx * 2.2;
  return int(head) + heatmapHeightForWidth(matrixFigure(), int(width * (1 - kListShare)));
}

QString CompositionView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  const QPoint c = layoutHeatmap(matrixFigure(), L.matrix, style).cellAt(pos);
  if (c.x() >= 0) {
    const float v = cellValue(c.y(), c.x());
    const QString pair = QStringLiteral("%1 → %2").arg(rowLabels_[c.y()], colLabels_[c.x()]);
    if (!std::isfinite(v)) return tr("%1: the sender is not before the receiver").arg(pair);
    return tr("%1: %2-composition %3%4")
        .arg(pair, QString::fromStdString(mode_).toUpper(), exactValue(v),
             v < threshold_ ? tr(" (below the threshold)") : QString());
  }
  if (L.pairs.contains(pos)) {
    const int i = int((pos.y() - L.pairs.top()) / L.lineHeight) - 1;
    const std::vector<Pair> pairs = strongestPairs(L.lines);
    if (i >= 0 && i < int(pairs.size()))
      return QStringLiteral("%1 → %2: %3")
          .arg(pairs[i].sender, pairs[i].receiver, exactValue(pairs[i].value));
  }
  return {};
}

QRect CompositionView::cellRect(int row, int col) const {
  if (row < 0 || col < 0 || row >= rows() || col >= cols()) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutHeatmap(matrixFigure(), layout(rect).matrix, style).cellRect(row, col).toRect();
}

}  // namespace mechscope
