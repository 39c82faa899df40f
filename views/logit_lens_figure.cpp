// LogitLensView: the figure — the layer × position table of top-1 tokens shaded by probability,
// the clicked cell outlined, and the answer's log-prob across layers under it; hit-testing.
#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/color_bar.h"
#include "views/figure_style.h"
#include "views/logit_lens_view.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kChartShare = 0.3;  // of the height, for the answer chart...
constexpr double kChartMinEms = 11;  // ...but at least this many lines of text

}  // namespace

QString LogitLensView::figureTitle() const { return resultTitle(*result_); }

HeatmapFigure LogitLensView::tableFigure() const {
  HeatmapFigure f;
  f.title = figureTitle();
  f.xTitle = tr("position");
  f.yTitle = tr("layer");
  f.xLabels = positionLabels_;
  for (int l : rowLayers_) f.yLabels << layerLabels_[l];
  f.matrix = {top1_.data(), static_cast<int>(rowLayers_.size()), positions_, positions_};
  const auto [lo, hi] = f.matrix.range();
  f.scale = scale_.resolved(lo, hi);
  f.colorBarTitle = tr("top-1 probability");
  f.squareCells = false;
  f.annotate = false;
  f.cellTexts = texts_;
  return f;
}

LogitLensView::Layout LogitLensView::layout(const QRectF& rect) const {
  Layout L;
  L.table = rect;
  if (answer_ && !rowLayers_.empty()) {
    const double fontPx = FigureStyle::forSize(rect.width(), rect.height()).fontPx;
    const double chartH = std::min(rect.height() * 0.45,
                                   std::max(rect.height() * kChartShare, fontPx * kChartMinEms));
    L.table.setBottom(rect.bottom() - chartH);
    L.chart = QRectF(rect.left(), L.table.bottom(), rect.width(), chartH);
  }
  return L;
}

void LogitLensView::paintAnswerChart(QPainter& p, const QRectF& rect,
                                     const FigureStyle& style) const {
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  const double pad = style.pad(), lineH = fm.height();
  std::vector<double> values;
  double lo = 0, hi = -1e300;
  for (int l : rowLayers_) {
    values.push_back(answer_->at({l, position_}));
    if (std::isfinite(values.back())) {
      lo = std::min(lo, values.back());
      hi = std::max(hi, values.back());
    }
  }
  hi = std::max(hi, 0.0);
  if (hi <= lo) lo = hi - 1;
  double tickW = 0;
  const auto ticks = niceTicks(lo, hi, 4);
  for (double v : ticks) tickW = std::max(tickW, fm.horizontalAdvance(formatValue(v)));
  const QRectF plot(rect.left() + pad + lineH * 1.3 + tickW + pad * 0.5, rect.top() + lineH * 1.8,
                    rect.width() - 3 * pad - lineH * 1.3 - tickW, rect.height() - lineH * 3.6);
  if (plot.width() <= 0 || plot.height() <= 0) return;
  p.setFont(style.font(0.95));
  p.setPen(style.text);
  p.drawText(QRectF(rect.left(), rect.top() + lineH * 0.3, rect.width(), lineH * 1.3),
             Qt::AlignCenter,
             tr("log p(answer) at position %1 “%2”")
                 .arg(position_)
                 .arg(labelOrIndex(positionLabels_, position_)));
  p.setFont(font);
  auto yOf = [&](double v) { return plot.bottom() - (v - lo) / (hi - lo) * plot.height(); };
  for (double v : ticks) {
    p.setPen(QPen(QColor(228, 228, 228), 1.0));
    p.drawLine(QPointF(plot.left(), yOf(v)), QPointF(plot.right(), yOf(v)));
    p.setPen(style.text);
    p.drawText(QRectF(plot.left() - tickW - pad * 0.5, yOf(v) - lineH / 2, tickW, lineH),
               Qt::AlignRight | Qt::AlignVCenter, formatValue(v));
  }
  const int n = static_cast<int>(values.size());
  const double step = plot.width() / n;
  const int labelStep =
      std::max(1, static_cast<int>(std::ceil(fm.horizontalAdvance("final") * 1.3 / step)));
  QPainterPath line;
  for (int i = 0; i < n; ++i) {
    const QPointF pt(plot.left() + (i + 0.5) * step,
                     yOf(std::isfinite(values[i]) ? values[i] : lo));
    i == 0 ? line.moveTo(pt) : line.lineTo(pt);
    if (i % labelStep == 0) {
      p.setPen(style.text);
      p.drawText(QRectF(pt.x() - step * labelStep / 2, plot.bottom() + 2, step * labelStep, lineH),
                 Qt::AlignCenter, layerLabels_[rowLayers_[i]]);
    }
  }
  p.setPen(QPen(style.accent, std::max(1.5, style.fontPx * 0.15)));
  p.setBrush(Qt::NoBrush);
  p.drawPath(line);
  p.setBrush(style.accent);
  for (int i = 0; i < line.elementCount(); ++i)
    p.drawEllipse(QPointF(line.elementAt(i)), style.fontPx * 0.22, style.fontPx * 0.22);
  p.setPen(QPen(style.frame, 1.0));
  p.setBrush(Qt::NoBrush);
  p.drawLine(plot.bottomLeft(), plot.topLeft());
  p.drawLine(plot.bottomLeft(), plot.bottomRight());
  p.setPen(style.muted);
  drawVerticalText(p, QPointF(rect.left() + pad + lineH * 0.6, plot.center().y()), tr("log-prob"));
}

void LogitLensView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  const HeatmapFigure f = tableFigure();
  paintHeatmap(p, L.table, f, style);
  const auto row = std::find(rowLayers_.begin(), rowLayers_.end(), cellLayer_);
  if (row != rowLayers_.end() && cellPosition_ >= 0) {
    p.setPen(QPen(style.text, std::max(1.5, style.fontPx * 0.15)));
    p.setBrush(Qt::NoBrush);
    p.drawRect(layoutHeatmap(f, L.table, style)
                   .cellRect(static_cast<int>(row - rowLayers_.begin()), cellPosition_));
  }
  if (!L.chart.isEmpty()) paintAnswerChart(p, L.chart, style);
  p.restore();
}

int LogitLensView::figureHeightForWidth(int width) const {
  const FigureStyle style = FigureStyle::forSize(width, width * 0.6);
  const QFontMetricsF fm(style.font(0.85));
  double labelH = fm.height();
  for (const QString& s : positionLabels_)
    labelH = std::max(labelH, std::min(fm.horizontalAdvance(s), style.fontPx * 9));
  double table = titleHeight(figureTitle(), style) + 3 * style.pad() + labelH +
                 rowLayers_.size() * style.fontPx * 1.9;
  table = std::max(table, style.fontPx * 14);
  const double height =
      answer_ ? std::max(table / (1 - kChartShare), table + style.fontPx * kChartMinEms) : table;
  return static_cast<int>(std::ceil(std::clamp(height, width * 0.3, width * 2.0)));
}

QRect LogitLensView::cellRect(int layer, int position) const {
  const auto row = std::find(rowLayers_.begin(), rowLayers_.end(), layer);
  if (row == rowLayers_.end() || position < 0 || position >= positions_) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutHeatmap(tableFigure(), layout(rect).table, style)
      .cellRect(static_cast<int>(row - rowLayers_.begin()), position)
      .toRect();
}

QString LogitLensView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const QPoint c = layoutHeatmap(tableFigure(), layout(rect).table, style).cellAt(pos);
  return c.x() < 0 ? QString() : cellDescription(rowLayers_[c.y()], c.x());
}

void LogitLensView::canvasClicked(const QPoint& pos) {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const QPoint c = layoutHeatmap(tableFigure(), layout(rect).table, style).cellAt(pos);
  if (c.x() < 0) return;
  cellLayer_ = rowLayers_[c.y()];
  cellPosition_ = c.x();
  position_ = c.x();  // the answer chart follows the clicked position
  userChanged();
}

}  // namespace mechscope
