#include "views/bar_chart_view.h"

#include <QComboBox>
#include <QFontMetricsF>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSignalBlocker>
#include <algorithm>
#include <cmath>

#include "views/bar_figure.h"
#include "views/axis_labels.h"
#include "views/color_bar.h"
#include "views/colormap.h"
#include "views/figure_style.h"
#include "views/heatmap_view.h"

namespace mechscope {
namespace {

std::pair<double, double> valueRange(const float* v, int n) {
  double lo = 0, hi = 0;  // the zero line is always in view
  for (int i = 0; i < n; ++i)
    if (std::isfinite(v[i])) {
      lo = std::min<double>(lo, v[i]);
      hi = std::max<double>(hi, v[i]);
    }
  if (hi == lo) hi = lo + 1;
  const double margin = (hi - lo) * 0.06;
  return {lo < 0 ? lo - margin : lo, hi > 0 ? hi + margin : hi};
}

}  // namespace

bool BarChartView::canShow(const Result& result) {
  const std::string name = primary_array_name(result);
  return !name.empty() && result.arrays.at(name).shape.size() == 1;
}

BarChartView::BarChartView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  for (const auto& [name, a] : result_->arrays)
    if (a.shape.size() == 1 && a.numel() > 0 && int64_t(a.data.size()) == a.numel())
      candidates_.push_back(name);
  auto* row = new QHBoxLayout;
  arrayBox_ = addArrayChooser(row, candidates_, [this](const std::string& name) {
    selectArray(name);
    updateFigure();
    emit stateChanged();
  });
  row->addStretch(1);
  controlsLayout()->addLayout(row);
  const std::string first = primary_array_name(*result_);
  selectArray(std::count(candidates_.begin(), candidates_.end(), first) ? first
                                                                        : candidates_.at(0));
}

void BarChartView::selectArray(const std::string& name) {
  const Array& a = result_->array(name);
  arrayName_ = name;
  values_ = a.data.data();
  count_ = static_cast<int>(a.shape[0]);
  labels_ = a.axes.empty() ? QStringList() : axisLabels(a.axes[0], count_);
  axisTitle_ = a.axes.empty() ? QString() : QString::fromStdString(a.axes[0].name);
  const QSignalBlocker block(arrayBox_);
  arrayBox_->setCurrentIndex(static_cast<int>(
      std::find(candidates_.begin(), candidates_.end(), name) - candidates_.begin()));
}

nlohmann::json BarChartView::state() const { return {{"array", arrayName_}}; }

void BarChartView::setState(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("array") || !j["array"].is_string()) return;
  const std::string name = j["array"].get<std::string>();
  if (std::count(candidates_.begin(), candidates_.end(), name)) selectArray(name);
  updateFigure();
}

QString BarChartView::figureTitle() const {
  const QString base =
      QString::fromStdString(result_->title.empty() ? result_->id : result_->title);
  return candidates_.size() > 1 ? tr("%1 — %2").arg(base, QString::fromStdString(arrayName_))
                                : base;
}

int BarChartView::figureHeightForWidth(int width) const { return width * 9 / 16; }

BarChartView::Layout BarChartView::layout(const QRectF& rect, const FigureStyle& style) const {
  Layout L;
  const QFontMetricsF fm(style.font(0.85));
  const double pad = style.pad(), gap = style.fontPx * 0.3, tick = style.fontPx * 0.3;
  const QRectF R = rect.adjusted(pad, pad * 0.8, -pad, -pad * 0.8);
  L.title = QRectF(R.left(), R.top(), R.width(), titleHeight(figureTitle(), style));
  std::tie(L.lo, L.hi) = valueRange(values_, count_);
  double tickW = 0;
  for (double v : niceTicks(L.lo, L.hi, 8))
    tickW = std::max(tickW, fm.horizontalAdvance(formatValue(v)));
  const double axisTitleH = QFontMetricsF(style.font(0.95)).height() + gap;
  const double left = axisTitleH + tickW + tick + gap;
  double maxLabel = 0;
  for (int i = 0; i < count_; ++i)
    maxLabel = std::max(maxLabel,
                        std::min(fm.horizontalAdvance(labelOrIndex(labels_, i)), style.fontPx * 9));
  L.plot = QRectF(R.left() + left, L.title.bottom() + fm.height() / 2, R.width() - left - pad, 0);
  L.slot = L.plot.width() / std::max(1, count_);
  const double need = maxLabel + style.fontPx * 0.6;
  if (L.slot < need && maxLabel > style.fontPx * 2.6) L.rotate = true;
  L.labelStep = std::max(1, static_cast<int>(std::ceil((L.rotate ? fm.height() * 1.15 : need) /
                                                       std::max(L.slot, 1e-9))));
  const double bottom =
      tick + gap + (L.rotate ? maxLabel : fm.height()) + (axisTitle_.isEmpty() ? 0 : axisTitleH);
  L.plot.setBottom(std::max(L.plot.top() + 1, R.bottom() - bottom));
  return L;
}

void BarChartView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect, style);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, figureTitle(), style);
  const QFont labelFont = style.font(0.85);
  const QFontMetricsF fm(labelFont);
  const double tick = style.fontPx * 0.3, gap = style.fontPx * 0.3;
  p.setFont(labelFont);

  // Value axis: light grid lines with tick labels, and a darker zero line.
  for (double v :
       niceTicks(L.lo, L.hi, std::clamp(int(L.plot.height() / (fm.height() * 2)), 2, 8))) {
    const double y = L.valueToY(v);
    p.setPen(QPen(QColor(228, 228, 228), 1.0));
    p.drawLine(QPointF(L.plot.left(), y), QPointF(L.plot.right(), y));
    p.setPen(style.text);
    p.drawText(QRectF(L.plot.left() - tick - gap - style.fontPx * 8, y - fm.height() / 2,
                      style.fontPx * 8, fm.height()),
               Qt::AlignRight | Qt::AlignVCenter, formatValue(v));
  }
  const double zero = L.valueToY(0);

  const bool annotate = L.slot >= style.fontPx * 2.6 && count_ <= 48;
  for (int i = 0; i < count_; ++i) {
    const double v = std::isfinite(values_[i]) ? values_[i] : 0.0;
    const double x = L.plot.left() + i * L.slot + L.slot * 0.125;
    const double y = L.valueToY(v);
    p.fillRect(QRectF(x, std::min(y, zero), L.slot * 0.75, std::abs(zero - y)),
               v < 0 ? style.negative : style.positive);
    if (annotate) {
      p.setPen(style.muted);
      const double h = fm.height();
      p.drawText(QRectF(x - L.slot * 0.125, v < 0 ? y + 1 : y - h - 1, L.slot, h), Qt::AlignCenter,
                 formatValue(values_[i], 2));
    }
  }
  p.setPen(QPen(style.text, 1.0));
  p.drawLine(QPointF(L.plot.left(), zero), QPointF(L.plot.right(), zero));
  p.setPen(QPen(style.frame, 1.0));
  p.drawLine(L.plot.bottomLeft(), L.plot.topLeft());

  // Index labels under the plot.
  p.setPen(style.text);
  const double labelsBottom =
      paintCategoryLabels(p, fm, L.plot, L.slot, count_, L.labelStep, L.rotate, tick + gap,
                          style.fontPx * 9, [this](int i) { return labelOrIndex(labels_, i); });
  p.setFont(style.font(0.95));
  p.setPen(style.muted);
  if (!axisTitle_.isEmpty())
    p.drawText(QRectF(L.plot.left(), labelsBottom + gap, L.plot.width(), fm.height() * 1.3),
               Qt::AlignHCenter | Qt::AlignTop, axisTitle_);
  drawVerticalText(p,
                   QPointF(rect.left() + style.pad() + QFontMetricsF(p.font()).height() / 2,
                           L.plot.center().y()),
                   QString::fromStdString(arrayName_));
  p.restore();
}

QString BarChartView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const Layout L = layout(rect, FigureStyle::forSize(rect.width(), rect.height()));
  if (pos.x() < L.plot.left() || pos.x() >= L.plot.right() || pos.y() < L.plot.top() ||
      pos.y() > L.plot.bottom())
    return {};
  const int i = std::clamp(int((pos.x() - L.plot.left()) / L.slot), 0, count_ - 1);
  return tr("%1 %2\n%3 %4")
      .arg(axisTitle_.isEmpty() ? tr("index") : axisTitle_, labelOrIndex(labels_, i),
           QString::fromStdString(arrayName_), formatValue(values_[i], 4));
}

QRect BarChartView::barSlot(int index) const {
  if (index < 0 || index >= count_) return {};
  const QRectF rect = canvas()->rect();
  const Layout L = layout(rect, FigureStyle::forSize(rect.width(), rect.height()));
  return QRectF(L.plot.left() + index * L.slot, L.plot.top(), L.slot, L.plot.height()).toRect();
}

}  // namespace mechscope
