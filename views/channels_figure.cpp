// ChannelsView: the figure — per-component bars with the whole-matrix reference line and the
// singular values, and the metric before and after the edit beside them.
#include <QFontMetricsF>
#include <QPainter>
#include <cmath>

#include "views/axis_labels.h"
#include "views/channels_view.h"
#include "views/colormap.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr double kMetricShare = 0.22;  // of the width

std::vector<double> valuesOf(const Array& a) { return {a.data.begin(), a.data.end()}; }

QStringList labelsOf(const Array& a, const QString& prefix) {
  QStringList labels = a.axes.empty() ? QStringList() : axisLabels(a.axes[0], a.shape[0]);
  if (labels.isEmpty())
    for (int64_t i = 0; i < a.shape[0]; ++i) labels << prefix + QString::number(i);
  return labels;
}

}  // namespace

QString ChannelsView::figureTitle() const { return resultTitle(*result_); }

QString ChannelsView::caption() const {
  QStringList parts;
  const QString sender = QString::fromStdString(metaString(*result_, "sender"));
  const QString receiver = QString::fromStdString(metaString(*result_, "receiver"));
  const QString mode = QString::fromStdString(metaString(*result_, "mode"));
  if (!sender.isEmpty() || !receiver.isEmpty())
    parts << QStringLiteral("%1 → %2").arg(sender, receiver) +
                 (mode.isEmpty() ? QString() : tr(", %1-composition").arg(mode.toUpper()));
  if (auto s = metaNumber(*result_, "composition_score"))
    parts << tr("whole matrix %1").arg(formatValue(*s, 3));
  if (auto it = result_->meta.find("scale"); it != result_->meta.end() && it->is_object()) {
    QStringList comps;
    for (const auto& c : it->value("components", nlohmann::json::array()))
      if (c.is_number_integer()) comps << QStringLiteral("C%1").arg(c.get<int>());
    const double factor = it->value("factor", 1.0);
    parts << tr("%1 × %2").arg(comps.join(QLatin1Char(',')), formatValue(factor, 3));
  }
  return parts.join(QStringLiteral("; "));
}

BarFigure ChannelsView::componentFigure() const {
  BarFigure f;
  f.xTitle = tr("sender OV component");
  f.yTitle = tr("composition score");
  f.categories = labelsOf(*score_, "C");
  f.series = {{tr("component score"), seriesColor(0), valuesOf(*score_)}};
  if (auto s = metaNumber(*result_, "composition_score"))
    f.references.push_back({*s, tr("whole matrix %1").arg(formatValue(*s, 3)), seriesColor(3)});
  if (singular_ && showSingular_) {
    f.line = {tr("singular value"), seriesColor(1), valuesOf(*singular_)};
    f.lineTitle = tr("singular value");
  }
  f.annotate = f.categories.size() <= 16;
  return f;
}

BarFigure ChannelsView::metricFigure() const {
  BarFigure f;
  if (!metric_) return f;
  f.title = tr("Metric");
  f.yTitle = QString::fromStdString(metaString(*result_, "metric", "metric"));
  f.categories = labelsOf(*metric_, "");
  f.series = {{f.yTitle, seriesColor(2), valuesOf(*metric_)}};
  return f;
}

ChannelsView::Layout ChannelsView::layout(const QRectF& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  Layout L;
  const double pad = style.pad();
  const FigureHeading heading = layoutHeading(rect, figureTitle(), style);
  L.title = heading.title;
  L.caption = heading.caption;
  const double top = L.caption.bottom();
  const double metricW = metric_ ? rect.width() * kMetricShare : 0;
  L.components = QRectF(rect.left(), top, rect.width() - metricW, rect.bottom() - top);
  if (metric_) L.metric = QRectF(L.components.right(), top, metricW, rect.bottom() - top);
  return L;
}

void ChannelsView::paintFigure(QPainter& p, const QRect& rect) const {
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  p.save();
  p.setRenderHint(QPainter::TextAntialiasing, true);
  paintHeading(p, {L.title, L.caption}, figureTitle(), caption(), style);
  paintBars(p, L.components, componentFigure(), style);
  if (!L.metric.isEmpty()) paintBars(p, L.metric, metricFigure(), style);
  p.restore();
}

int ChannelsView::figureHeightForWidth(int width) const { return width * 9 / 16; }

QString ChannelsView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const Layout L = layout(rect);
  const BarFigure f = componentFigure();
  if (int i = layoutBars(f, L.components, style).categoryAt(pos); i >= 0)
    return barDescription(f, i);
  if (!L.metric.isEmpty()) {
    const BarFigure m = metricFigure();
    if (int i = layoutBars(m, L.metric, style).categoryAt(pos); i >= 0) return barDescription(m, i);
  }
  return {};
}

QRect ChannelsView::barRect(int index) const {
  const BarFigure f = componentFigure();
  if (index < 0 || index >= f.categories.size()) return {};
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  return layoutBars(f, layout(rect).components, style).barRect(f, index, 0).toRect();
}

}  // namespace mechscope
