// HeadMaskingView: the accuracy bars, the random draws as dots with a min–max whisker, the caption
// and state.
#include "views/head_masking_view.h"

#include <QFontMetricsF>
#include <QLabel>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/colormap.h"
#include "views/figure_style.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr int kCaptionLines = 3;
const QColor kDrawColor(60, 60, 60);

}  // namespace

bool HeadMaskingView::canShow(const Result& result) {
  if (result.probe != "head_masking") return false;
  const Array* a = usableArray(result, "accuracy");
  return a && a->shape.size() == 1;
}

HeadMaskingView::HeadMaskingView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  const Array& a = *usableArray(*result_, "accuracy");
  const int n = static_cast<int>(a.shape[0]);
  conditions_ = a.axes.empty() ? QStringList() : axisLabels(a.axes[0], n);
  if (conditions_.isEmpty() && n == 3) conditions_ = {"none", "masked", "random"};
  if (conditions_.isEmpty()) conditions_ = axisLabelsOr(a, 0, "");
  for (float v : a.data) accuracy_.push_back(v);
  random_ = int(conditions_.indexOf(QStringLiteral("random")));
  if (const Array* d = usableArray(*result_, "random_accuracy"); d && d->shape.size() == 1)
    for (float v : d->data) draws_.push_back(v);
  if (auto it = result_->meta.find("heads"); it != result_->meta.end() && it->is_array())
    for (const auto& h : *it)
      if (h.is_string()) heads_ << QString::fromStdString(h.get<std::string>());
  detail_ = addDetailLabel();
  detail_->setText(detailText());
}

QString HeadMaskingView::figureTitle() const { return resultTitle(*result_); }

QString HeadMaskingView::caption() const {
  QStringList parts;
  const std::string mode = metaString(*result_, "mode");
  parts << tr("masked%1: %2")
               .arg(mode.empty() ? QString() : tr(" (mode %1)").arg(QString::fromStdString(mode)),
                    heads_.isEmpty() ? tr("no heads") : heads_.join(QStringLiteral(", ")));
  if (const std::string task = metaString(*result_, "task"); !task.empty())
    parts << tr("task %1").arg(QString::fromStdString(task));
  if (random_ >= 0 && !draws_.empty())
    parts << tr("random: mean of %n draw(s) of as many other heads", nullptr, int(draws_.size()));
  return parts.join(QStringLiteral(" · "));
}

QString HeadMaskingView::detailText() const {
  QStringList parts;
  for (int i = 0; i < conditions_.size() && i < int(accuracy_.size()); ++i)
    parts << QStringLiteral("%1 %2").arg(conditions_[i], exactValue(accuracy_[i]));
  QString text = tr("accuracy: ") + parts.join(QStringLiteral(" · "));
  if (!draws_.empty()) {
    const auto [lo, hi] = std::minmax_element(draws_.begin(), draws_.end());
    text += tr("\nrandom draws (%1): min %2, max %3")
                .arg(draws_.size())
                .arg(formatValue(*lo, 4), formatValue(*hi, 4));
  }
  return text + QLatin1Char('\n') + caption();
}

BarFigure HeadMaskingView::accuracyFigure() const {
  BarFigure f;
  f.xTitle = tr("heads masked");
  f.yTitle = tr("accuracy");
  // Values go in the labels: printed over the bars they would collide with the draws.
  for (int i = 0; i < conditions_.size(); ++i)
    f.categories << (i < int(accuracy_.size())
                         ? QStringLiteral("%1 %2").arg(conditions_[i], formatValue(accuracy_[i], 3))
                         : conditions_[i]);
  f.series = {{tr("accuracy"), seriesColor(0), accuracy_}};
  f.annotate = false;
  f.fixedRange = true;
  f.lo = 0;
  f.hi = 1;
  return f;
}

HeadMaskingView::Layout HeadMaskingView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  L.title = QRectF(rect.left() + pad, rect.top() + pad * 0.8, rect.width() - 2 * pad,
                   titleHeight(figureTitle(), style));
  const QFontMetricsF fm(style.font(1.0));
  const double textH = fm.boundingRect(QRectF(0, 0, L.title.width(), 1e6),
                                       Qt::AlignHCenter | Qt::TextWordWrap, caption())
                           .height();
  L.caption = QRectF(L.title.left(), L.title.bottom() - style.fontPx * 0.3, L.title.width(),
                     std::min(textH, fm.lineSpacing() * kCaptionLines) + style.fontPx * 0.3);
  L.bars =
      QRectF(rect.left(), L.caption.bottom(), rect.width(), rect.bottom() - L.caption.bottom());
  return L;
}

std::vector<QPointF> HeadMaskingView::drawPoints(const BarLayout& L, const BarFigure& f) const {
  std::vector<QPointF> out;
  if (random_ < 0) return out;
  const QRectF bar = L.barRect(f, random_, 0);
  for (size_t i = 0; i < draws_.size(); ++i) {
    // A fixed spread across the middle of the bar (golden-ratio steps), so dots rarely overlap.
    const double spread = std::fmod(double(i) * 0.618034, 1.0) - 0.5;
    out.emplace_back(bar.center().x() + spread * bar.width() * 0.6,
                     L.valueToY(std::clamp(draws_[i], 0.0, 1.0)));
  }
  return out;
}

void HeadMaskingView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintTitle(p, L.title, figureTitle(), style);
  p.setFont(style.font(1.0));
  p.setPen(style.muted);
  p.drawText(L.caption, Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap, caption());

  const BarFigure f = accuracyFigure();
  paintBars(p, L.bars, f, style);
  const BarLayout B = layoutBars(f, L.bars, style);
  const std::vector<QPointF> points = drawPoints(B, f);
  if (!points.empty()) {
    // The whisker from the lowest to the highest draw, then the draws.
    const auto [lo, hi] = std::minmax_element(draws_.begin(), draws_.end());
    const QRectF bar = B.barRect(f, random_, 0);
    const double x = bar.center().x(), cap = bar.width() * 0.2;
    const double y0 = B.valueToY(std::clamp(*lo, 0.0, 1.0)),
                 y1 = B.valueToY(std::clamp(*hi, 0.0, 1.0));
    p.setPen(QPen(kDrawColor, std::max(1.2, style.fontPx * 0.12)));
    p.drawLine(QPointF(x, y0), QPointF(x, y1));
    p.drawLine(QPointF(x - cap, y0), QPointF(x + cap, y0));
    p.drawLine(QPointF(x - cap, y1), QPointF(x + cap, y1));
    const double r = std::clamp(bar.width() * 0.04, 2.0, style.fontPx * 0.3);
    p.setPen(QPen(Qt::white, 1.0));
    p.setBrush(kDrawColor);
    for (const QPointF& pt : points) p.drawEllipse(pt, r, r);
  }
  p.restore();
}

int HeadMaskingView::figureHeightForWidth(int width) const { return width * 3 / 5; }

QString HeadMaskingView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const BarFigure f = accuracyFigure();
  const BarLayout B = layoutBars(f, layout(rect).bars, style);
  const std::vector<QPointF> points = drawPoints(B, f);
  const double near = style.fontPx * 0.4;
  for (size_t i = 0; i < points.size(); ++i)
    if (QLineF(points[i], pos).length() <= near)
      return tr("random draw %1: accuracy %2").arg(i).arg(exactValue(draws_[i]));
  const int i = B.categoryAt(pos);
  if (i < 0) return {};
  QString text = barDescription(f, i);
  if (i == random_ && !draws_.empty())
    text += tr(" (mean of %n draw(s))", nullptr, int(draws_.size()));
  return text;
}

QRect HeadMaskingView::barRect(int index) const {
  if (index < 0 || index >= conditions_.size()) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const BarFigure f = accuracyFigure();
  return layoutBars(f, layout(rect).bars, style).barRect(f, index, 0).toRect();
}

QPointF HeadMaskingView::drawPoint(int index) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const BarFigure f = accuracyFigure();
  const std::vector<QPointF> points = drawPoints(layoutBars(f, layout(rect).bars, style), f);
  return index >= 0 && index < int(points.size()) ? points[index] : QPointF();
}

nlohmann::json HeadMaskingView::state() const { return {{"zoom", zoom()}}; }

void HeadMaskingView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  updateFigure();
}

bool HeadMaskingView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
