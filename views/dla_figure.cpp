// DlaView: the figure — the sorted bar chart of the top components beside the layer × head
// heatmap; hit-testing and tooltips.
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/color_bar.h"
#include "views/dla_view.h"
#include "views/figure_style.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kBarShare = 0.56;  // of the width, when there is a heatmap beside the bars

}  // namespace

QString DlaView::figureTitle() const {
  return resultTitle(*result_) + QStringLiteral(" — ") + caption();
}

QString DlaView::caption() const {
  QStringList facts;
  if (auto d = metaNumber(*result_, "logit_diff"))
    facts << tr("logit diff %1").arg(formatValue(*d, 4));
  facts << tr("sum of components %1").arg(formatValue(sum_, 4));
  return facts.join(QStringLiteral(", "));
}

ColorScale DlaView::resolvedScale() const {
  const MatrixRef m{headCells_.data(), static_cast<int>(headRowLabels_.size()), heads_, heads_};
  const auto [lo, hi] = m.range();
  return scale_.resolved(lo, hi);
}

HeatmapFigure DlaView::headsFigure(const ColorScale& scale) const {
  HeatmapFigure f;
  f.title = tr("Heads");
  f.xTitle = tr("head");
  f.yTitle = tr("layer");
  f.xLabels = headLabels_;
  f.yLabels = headRowLabels_;
  f.matrix = {headCells_.data(), static_cast<int>(headRowLabels_.size()), heads_, heads_};
  f.scale = scale;
  f.colorBarTitle = QString::fromStdString(metaString(*result_, "metric", "logit diff"));
  return f;
}

DlaView::Layout DlaView::layout(const QRectF& rect, const FigureStyle& style) const {
  Layout L;
  const double pad = style.pad();
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  L.title = QRectF(R.left(), R.top(), R.width(), titleHeight(resultTitle(*result_), style));
  L.caption = QRectF(R.left(), L.title.bottom() - style.fontPx * 0.3, R.width(),
                     QFontMetricsF(style.font(1.0)).height() + style.fontPx * 0.5);
  const double top = L.caption.bottom();
  const bool heatmap = !headCells_.empty();
  const double barsW = heatmap ? R.width() * kBarShare : R.width();
  if (heatmap) L.heatmap = QRectF(R.left() + barsW, top, R.width() - barsW, R.bottom() - top);

  const std::vector<Component> shown = shownComponents();
  const QFontMetricsF fm(style.font(0.85));
  for (const Component& c : shown)
    L.labelWidth = std::max(L.labelWidth, fm.horizontalAdvance(c.label));
  L.labelWidth += style.fontPx * 0.6;
  for (const Component& c : shown)
    if (std::isfinite(c.value)) {
      L.lo = std::min(L.lo, c.value);
      L.hi = std::max(L.hi, c.value);
    }
  if (L.hi == L.lo) L.hi = L.lo + 1;
  const double margin = (L.hi - L.lo) * 0.12;  // room for the value printed past each bar's end
  if (L.lo < 0) L.lo -= margin;
  if (L.hi > 0) L.hi += margin;
  const double axisH = fm.height() * 1.6;
  L.bars = QRectF(R.left() + L.labelWidth, top + fm.height() * 0.5,
                  std::max(1.0, barsW - L.labelWidth - pad),
                  std::max(1.0, R.bottom() - top - axisH - fm.height() * 0.5));
  L.slot = L.bars.height() / std::max<size_t>(1, shown.size());
  return L;
}

void DlaView::paintBars(QPainter& p, const Layout& L, const FigureStyle& style) const {
  const std::vector<Component> shown = shownComponents();
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  p.setFont(font);
  for (double v :
       niceTicks(L.lo, L.hi, std::clamp(int(L.bars.width() / (style.fontPx * 5)), 2, 8))) {
    const double x = L.valueToX(v);
    p.setPen(QPen(QColor(228, 228, 228), 1.0));
    p.drawLine(QPointF(x, L.bars.top()), QPointF(x, L.bars.bottom()));
    p.setPen(style.text);
    p.drawText(QRectF(x - style.fontPx * 4, L.bars.bottom() + style.fontPx * 0.3, style.fontPx * 8,
                      fm.height()),
               Qt::AlignHCenter | Qt::AlignTop, formatValue(v));
  }
  const double zero = L.valueToX(0);
  const bool annotate = L.slot >= fm.height() * 0.9;
  for (size_t i = 0; i < shown.size(); ++i) {
    const double v = std::isfinite(shown[i].value) ? shown[i].value : 0.0;
    const double y = L.bars.top() + i * L.slot, x = L.valueToX(v);
    const QRectF bar(std::min(x, zero), y + L.slot * 0.15, std::abs(x - zero), L.slot * 0.7);
    p.fillRect(bar, v < 0 ? style.negative : style.positive);
    p.setPen(style.text);
    p.drawText(QRectF(L.bars.left() - L.labelWidth, y, L.labelWidth - style.fontPx * 0.4, L.slot),
               Qt::AlignRight | Qt::AlignVCenter, shown[i].label);
    if (annotate) {
      p.setPen(style.muted);
      const QString text = formatValue(shown[i].value, 3);
      const double w = fm.horizontalAdvance(text) + 4;
      p.drawText(
          v < 0 ? QRectF(bar.left() - w - 2, y, w, L.slot) : QRectF(bar.right() + 2, y, w, L.slot),
          (v < 0 ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter, text);
    }
  }
  p.setPen(QPen(style.text, 1.0));
  p.drawLine(QPointF(zero, L.bars.top()), QPointF(zero, L.bars.bottom()));
  p.setPen(QPen(style.frame, 1.0));
  p.drawLine(L.bars.bottomLeft(), L.bars.bottomRight());
  p.setFont(style.font(0.95));
  p.setPen(style.muted);
  p.drawText(
      QRectF(L.bars.left(), L.bars.bottom() + fm.height() * 1.2, L.bars.width(), fm.height() * 1.3),
      Qt::AlignHCenter | Qt::AlignTop, tr("contribution (top %1 by |value|)").arg(shown.size()));
}

void DlaView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect, style);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, resultTitle(*result_), style);
  p.setFont(style.font(1.0));
  p.setPen(style.muted);
  drawElidedText(p, L.caption, caption(), Qt::AlignHCenter | Qt::AlignTop);
  paintBars(p, L, style);
  if (!L.heatmap.isEmpty()) paintHeatmap(p, L.heatmap, headsFigure(resolvedScale()), style);
  p.restore();
}

int DlaView::figureHeightForWidth(int width) const {
  const FigureStyle style = FigureStyle::forSize(width, width * 0.6);
  const double head = titleHeight(resultTitle(*result_), style) + style.fontPx * 1.6;
  const double barsH = head + 2.6 * style.pad() + shownComponents().size() * style.fontPx * 1.45;
  double height = barsH;
  if (!headCells_.empty())
    height = std::max<double>(height, head + heatmapHeightForWidth(headsFigure(resolvedScale()),
                                                                   int(width * (1 - kBarShare))));
  return static_cast<int>(std::ceil(std::clamp(height, width * 0.4, width * 2.0)));
}

QString DlaView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect, style);
  const std::vector<Component> shown = shownComponents();
  if (pos.y() >= L.bars.top() && pos.y() < L.bars.bottom() &&
      pos.x() >= L.bars.left() - L.labelWidth && pos.x() <= L.bars.right()) {
    const int i = static_cast<int>((pos.y() - L.bars.top()) / L.slot);
    if (i >= 0 && i < static_cast<int>(shown.size()))
      return tr("%1: %2").arg(shown[i].label, exactValue(shown[i].value));
  }
  if (L.heatmap.isEmpty()) return {};
  const HeatmapFigure f = headsFigure(resolvedScale());
  const QPoint c = layoutHeatmap(f, L.heatmap, style).cellAt(pos);
  if (c.x() < 0) return {};
  return tr("%1%2: %3")
      .arg(f.yLabels[c.y()], f.xLabels[c.x()], exactValue(f.matrix.at(c.y(), c.x())));
}

QRect DlaView::barRect(int index) const {
  const QRectF rect = canvas()->rect();
  const Layout L = layout(rect, FigureStyle::forSize(rect.width(), rect.height()));
  if (index < 0 || index >= static_cast<int>(shownComponents().size())) return {};
  return QRectF(L.bars.left(), L.bars.top() + index * L.slot, L.bars.width(), L.slot).toRect();
}

QRect DlaView::headCellRect(int layer, int head) const {
  const int row = static_cast<int>(
      std::count_if(layerSel_.begin(), layerSel_.end(), [layer](int l) { return l < layer; }));
  if (!selected(layerSel_, layer) || head < 0 || head >= heads_ || headCells_.empty()) return {};
  const int r = layerSel_.empty() ? layer : row;
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutHeatmap(headsFigure(resolvedScale()), layout(rect, style).heatmap, style)
      .cellRect(r, head)
      .toRect();
}

}  // namespace mechscope
