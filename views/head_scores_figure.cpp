// HeadScoresView: the figure — the layer × head score heatmap (selected head outlined) beside the
// scores' histogram with the threshold marked and the heads above it, and the selected head's
// attention map under them; hit-testing and tooltips.
#include <QFontMetricsF>
#include <QPainter>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/figure_style.h"
#include "views/head_scores_view.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kScoresShare = 0.56;     // of the width, for the heatmap
constexpr double kHistogramShare = 0.66;  // of the right column's height
constexpr double kMinRowShare = 0.42;     // the upper row's least height, of the width
const QColor kThresholdColor(214, 39, 40);

}  // namespace

QString HeadScoresView::arrayTitle() const {
  if (array_ == "induction_offset")
    return tr("induction offset d = %1").arg(labelOrIndex(offsetLabels_, offset_));
  return QString::fromStdString(array_).replace(QLatin1Char('_'), QLatin1Char(' '));
}

QString HeadScoresView::figureTitle() const {
  return resultTitle(*result_) + QStringLiteral(" — ") + arrayTitle();
}

QString HeadScoresView::caption() const {
  QStringList parts{tr("threshold %1 (red)").arg(formatValue(threshold_)),
                    tr("%1 heads above").arg(headsAbove().size())};
  const std::string source = metaString(*result_, "source");
  if (source == "random_repeat") parts << tr("on random repeated sequences");
  if (source == "prompt") parts << tr("on the prompt");
  if (layer_ >= 0)
    parts
        << tr("selected %1 = %2").arg(headLabel(layer_, head_), formatValue(score(layer_, head_)));
  return parts.join(QStringLiteral(" · "));
}

ColorScale HeadScoresView::resolvedScale() const {
  const MatrixRef m{cells_.data(), layers_, heads_, heads_};
  const auto [lo, hi] = m.range();
  return scale_.resolved(lo, hi);
}

HeatmapFigure HeadScoresView::scoresFigure() const {
  HeatmapFigure f;
  f.xTitle = tr("head");
  f.yTitle = tr("layer");
  f.xLabels = headLabels_;
  f.yLabels = layerLabels_;
  f.matrix = {cells_.data(), layers_, heads_, heads_};
  f.scale = resolvedScale();
  f.colorBarTitle = arrayTitle();
  f.annotate = true;
  return f;
}

BarFigure HeadScoresView::histogramFigure() const {
  BarFigure f;
  f.title = tr("Histogram");
  f.xTitle = arrayTitle();
  f.yTitle = tr("heads");
  const auto [lo, hi] = histogramRange();
  const double w = (hi - lo) / kBins;
  BarSeries counts{tr("heads"), seriesColor(0), {}};
  for (int c : histogram()) counts.values.push_back(c);
  for (int i = 0; i < kBins; ++i)
    f.categories << formatValue(lo + i * w, 2) + QStringLiteral("–") +
                        formatValue(lo + (i + 1) * w, 2);
  f.series = {counts};
  f.integerTicks = true;
  return f;
}

HeatmapFigure HeadScoresView::patternFigure() const {
  HeatmapFigure f;
  if (!showsPattern()) return f;
  const int64_t Q = pattern_->shape[2], K = pattern_->shape[3];
  f.title = tr("%1 attention").arg(headLabel(layer_, head_));
  f.yTitle = pattern_->axes.size() == 4 ? QString::fromStdString(pattern_->axes[2].name)
                                        : QStringLiteral("query");
  f.xTitle = pattern_->axes.size() == 4 ? QString::fromStdString(pattern_->axes[3].name)
                                        : QStringLiteral("key");
  f.yLabels = queryLabels_;
  f.xLabels = keyLabels_;
  f.matrix = {pattern_->data.data() + (int64_t(layer_) * heads_ + head_) * Q * K, int(Q), int(K),
              K};
  ColorScale s;
  const auto [lo, hi] = f.matrix.range();
  f.scale = s.resolved(lo, hi);
  f.colorBarTitle = tr("attention");
  f.annotate = false;
  return f;
}

HeadScoresView::Layout HeadScoresView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  const FigureHeading heading = layoutHeading(rect, figureTitle(), style);
  L.title = heading.title;
  L.caption = heading.caption;
  const double top = L.caption.bottom();
  double bottom = rect.bottom();
  if (showsPattern()) {
    // The two rows share the height as their natural heights at this width do...
    const int w = std::max(64, int(rect.width()));
    const double upper =
        std::max<double>(heatmapHeightForWidth(scoresFigure(), w * kScoresShare), w * kMinRowShare);
    const double lower = heatmapHeightForWidth(patternFigure(), w);
    // ...but the upper row keeps up to half when the figure is shorter than both want.
    const double avail = rect.bottom() - top;
    bottom = top + std::max(avail * upper / (upper + lower), std::min(upper, avail * 0.5));
    L.pattern = QRectF(rect.left(), bottom, rect.width(), rect.bottom() - bottom);
  }
  const double scoresW = rect.width() * kScoresShare;
  L.scores = QRectF(rect.left(), top, scoresW, bottom - top);
  const double rightW = rect.width() - scoresW;
  L.histogram = QRectF(L.scores.right(), top, rightW, (bottom - top) * kHistogramShare);
  L.list = QRectF(L.histogram.left() + pad, L.histogram.bottom(), rightW - 2 * pad,
                  bottom - L.histogram.bottom() - pad * 0.5);
  L.lineHeight = QFontMetricsF(style.font(0.85)).height() * 1.2;
  L.lines = std::max(0, int(L.list.height() / L.lineHeight) - 1);
  return L;
}

void HeadScoresView::paintHistogram(QPainter& p, const QRectF& rect,
                                    const FigureStyle& style) const {
  const BarFigure f = histogramFigure();
  paintBars(p, rect, f, style);
  // The threshold across the bins (they split the range evenly over the plot's width).
  const BarLayout L = layoutBars(f, rect, style);
  const auto [lo, hi] = histogramRange();
  if (threshold_ < lo || threshold_ > hi) return;
  const double x = L.plot.left() + (threshold_ - lo) / (hi - lo) * L.plot.width();
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setPen(QPen(kThresholdColor, std::max(1.2, style.fontPx * 0.12), Qt::DashLine));
  p.drawLine(QPointF(x, L.plot.top()), QPointF(x, L.plot.bottom()));
  const QFont font = style.font(0.85);
  const QFontMetricsF fm(font);
  p.setFont(font);
  const QString label = tr("threshold %1").arg(formatValue(threshold_));
  const double w = fm.horizontalAdvance(label) + 4;
  const QRectF box(std::min(x + 3, L.plot.right() - w), L.plot.top(), w, fm.height());
  p.fillRect(box, QColor(255, 255, 255, 210));
  p.setPen(kThresholdColor);
  p.drawText(box, Qt::AlignCenter, label);
  p.restore();
}

void HeadScoresView::paintList(QPainter& p, const Layout& L, const FigureStyle& style) const {
  const std::vector<HeadScore> above = headsAbove();
  p.setFont(style.font(0.95, true));
  p.setPen(style.text);
  drawElidedText(p, QRectF(L.list.left(), L.list.top(), L.list.width(), L.lineHeight),
                 tr("Heads above %1").arg(formatValue(threshold_)),
                 Qt::AlignLeft | Qt::AlignVCenter);
  const int shown = std::min<int>(above.size(), L.lines);
  const bool more = shown < int(above.size());
  for (int i = 0; i < shown; ++i) {
    const QRectF line(L.list.left(), L.list.top() + (i + 1) * L.lineHeight, L.list.width(),
                      L.lineHeight);
    if (more && i == shown - 1) {
      p.setFont(style.font(0.85));
      p.setPen(style.muted);
      p.drawText(line, Qt::AlignLeft | Qt::AlignVCenter,
                 tr("… %1 more").arg(above.size() - shown + 1));
      break;
    }
    const bool chosen = above[i].layer == layer_ && above[i].head == head_;
    p.setFont(style.font(0.85, chosen));
    p.setPen(style.text);
    p.drawText(line, Qt::AlignLeft | Qt::AlignVCenter, above[i].label);
    p.setPen(style.muted);
    p.drawText(line, Qt::AlignRight | Qt::AlignVCenter, formatValue(above[i].value, 3));
  }
  if (above.empty()) {
    p.setFont(style.font(0.85));
    p.setPen(style.muted);
    p.drawText(QRectF(L.list.left(), L.list.top() + L.lineHeight, L.list.width(), L.lineHeight),
               Qt::AlignLeft | Qt::AlignVCenter, tr("none"));
  }
}

void HeadScoresView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintHeading(p, {L.title, L.caption}, figureTitle(), caption(), style);

  const HeatmapFigure scores = scoresFigure();
  paintHeatmap(p, L.scores, scores, style);
  if (layer_ >= 0) {
    p.setPen(QPen(style.text, std::max(2.0, style.fontPx * 0.2)));
    p.setBrush(Qt::NoBrush);
    p.drawRect(layoutHeatmap(scores, L.scores, style).cellRect(layer_, head_));
  }
  paintHistogram(p, L.histogram, style);
  paintList(p, L, style);
  if (!L.pattern.isEmpty()) paintHeatmap(p, L.pattern, patternFigure(), style);
  p.restore();
}

int HeadScoresView::figureHeightForWidth(int width) const {
  const FigureStyle style = FigureStyle::forSize(width, width * 0.6);
  const double head = titleHeight(figureTitle(), style) + style.fontPx * 2.2;
  double height =
      head + std::max<double>(heatmapHeightForWidth(scoresFigure(), int(width * kScoresShare)),
                              width * kMinRowShare);
  if (showsPattern()) height += heatmapHeightForWidth(patternFigure(), width);
  return static_cast<int>(std::ceil(std::clamp(height, width * 0.4, width * 3.0)));
}

QString HeadScoresView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  const QPoint c = layoutHeatmap(scoresFigure(), L.scores, style).cellAt(pos);
  if (c.x() >= 0)
    return tr("%1: %2 %3")
        .arg(headLabel(c.y(), c.x()), arrayTitle(), exactValue(score(c.y(), c.x())));
  const BarFigure hist = histogramFigure();
  const int bin = layoutBars(hist, L.histogram, style).categoryAt(pos);
  if (bin >= 0) return tr("%1: %n head(s)", nullptr, histogram()[bin]).arg(hist.categories[bin]);
  if (L.list.contains(pos)) {
    const int i = int((pos.y() - L.list.top()) / L.lineHeight) - 1;
    const std::vector<HeadScore> above = headsAbove();
    if (i >= 0 && i < std::min<int>(above.size(), L.lines))
      return QStringLiteral("%1: %2").arg(above[i].label, exactValue(above[i].value));
  }
  if (!L.pattern.isEmpty()) {
    const HeatmapFigure f = patternFigure();
    const QPoint q = layoutHeatmap(f, L.pattern, style).cellAt(pos);
    if (q.x() >= 0)
      return tr("%1: %2 %3 “%4” → %5 %6 “%7”: %8")
          .arg(headLabel(layer_, head_), f.yTitle)
          .arg(q.y())
          .arg(labelOrIndex(queryLabels_, q.y()), f.xTitle)
          .arg(q.x())
          .arg(labelOrIndex(keyLabels_, q.x()), exactValue(f.matrix.at(q.y(), q.x())));
  }
  return {};
}

void HeadScoresView::canvasClicked(const QPoint& pos) {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  const QPoint c = layoutHeatmap(scoresFigure(), L.scores, style).cellAt(pos);
  if (c.x() >= 0) {
    layer_ = c.y();
    head_ = c.x();
    userChanged();
    return;
  }
  if (L.list.contains(pos)) {  // a head of the list
    const int i = int((pos.y() - L.list.top()) / L.lineHeight) - 1;
    const std::vector<HeadScore> above = headsAbove();
    if (i >= 0 && i < std::min<int>(above.size(), L.lines)) {
      layer_ = above[i].layer;
      head_ = above[i].head;
      userChanged();
    }
  }
}

QRect HeadScoresView::headCellRect(int layer, int head) const {
  if (layer < 0 || layer >= layers_ || head < 0 || head >= heads_) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutHeatmap(scoresFigure(), layout(rect).scores, style).cellRect(layer, head).toRect();
}

QRect HeadScoresView::binRect(int bin) const {
  if (bin < 0 || bin >= kBins) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const BarLayout L = layoutBars(histogramFigure(), layout(rect).histogram, style);
  return QRectF(L.plot.left() + bin * L.slot, L.plot.top(), L.slot, L.plot.height()).toRect();
}

QRect HeadScoresView::patternRect() const {
  if (!showsPattern()) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutHeatmap(patternFigure(), layout(rect).pattern, style).plot.toRect();
}

}  // namespace mechscope
