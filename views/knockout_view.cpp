// KnockoutView: the curves, the window, the patch relevance, controls, state and the detail
// panel. The figure is in knockout_figure.cpp.
#include "views/knockout_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/bar_figure.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

const Array* changeArray(const Result& r) {
  const Array* a = usableArray(r, "relative_change");
  if (!a) return nullptr;
  if (r.probe == "attention_knockout" && a->shape.size() == 1) return a;
  if (r.probe == "information_flow" && a->shape.size() == 2) return a;
  return nullptr;
}

std::vector<double> percent(const float* data, int64_t n) {
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(100.0 * data[i]);
  return out;
}

}  // namespace

bool KnockoutView::canShow(const Result& result) { return changeArray(result) != nullptr; }

std::vector<int> KnockoutView::windowLayers(int centre, int window, int layers) {
  std::vector<int> out;
  if (window <= 0) return out;
  const int lo = centre - (window - 1) / 2, hi = lo + window - 1;
  for (int l = std::max(0, lo); l <= std::min(layers - 1, hi); ++l) out.push_back(l);
  return out;
}

KnockoutView::KnockoutView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  const Array& change = *changeArray(*result_);
  const size_t layerAxis = change.shape.size() - 1;
  layers_ = static_cast<int>(change.shape[layerAxis]);
  layerLabels_ = axisLabelsOr(change, layerAxis, "L");
  window_ = std::max(0, static_cast<int>(metaNumber(*result_, "window").value_or(0)));
  if (change.shape.size() == 2) {  // one curve per flow
    const QStringList flows = axisLabelsOr(change, 0, "flow ");
    for (int f = 0; f < change.shape[0]; ++f)
      series_.push_back(
          {flows[f], seriesColor(f), percent(change.data.data() + int64_t(f) * layers_, layers_)});
  } else {
    const std::string from = metaString(*result_, "from"), to = metaString(*result_, "to");
    const QString name = from.empty() && to.empty()
                             ? tr("relative change")
                             : QStringLiteral("%1 → %2").arg(QString::fromStdString(from),
                                                             QString::fromStdString(to));
    series_.push_back({name, seriesColor(0), percent(change.data.data(), layers_)});
    if (const Array* b = usableArray(*result_, "p_blocked");
        b && b->shape == std::vector<int64_t>{layers_})
      blocked_ = b;
    if (const Array* e = usableArray(*result_, "example_change");
        e && e->shape.size() == 2 && e->shape[1] == layers_)
      for (int64_t i = 0; i < e->shape[0]; ++i)
        series_.push_back({tr("example %1").arg(i), seriesColor(0),
                           percent(e->data.data() + i * layers_, layers_), true});
  }
  if (const Array* r = usableArray(*result_, "patch_relevance");
      r && result_->probe == "information_flow" && r->shape.size() == 2 && r->shape[0] == layers_) {
    const int patches = static_cast<int>(r->shape[1]);
    side_ = static_cast<int>(metaNumber(*result_, "patch_grid").value_or(0));
    if (side_ <= 0 || side_ * side_ != patches)
      side_ = static_cast<int>(std::lround(std::sqrt(double(patches))));
    if (side_ > 0 && side_ * side_ == patches) {
      relevance_ = r;
      region_ = std::clamp(static_cast<int>(metaNumber(*result_, "region").value_or(1)), 1, side_);
      for (float v : r->data)
        if (std::isfinite(v)) maxRelevance_ = std::max(maxRelevance_, std::abs(100.0 * v));
      const Array* im = usableArray(*result_, "image");
      if (im && im->shape.size() == 3 && im->shape[2] == 3) image_ = im;
    }
  }
  // Start at the layer whose window hurts the answer most (in any flow).
  double lowest = INFINITY;
  for (const LineSeries& s : series_)
    for (int l = 0; l < layers_ && !s.secondary; ++l)
      if (std::isfinite(s.values[l]) && s.values[l] < lowest) {
        lowest = s.values[l];
        layer_ = l;
      }

  auto* row = new QHBoxLayout;
  layerSpin_ = new QSpinBox(this);
  layerSpin_->setRange(0, std::max(0, layers_ - 1));
  layerSpin_->setToolTip(tr("The window centre: click a layer in the chart, or choose it here"));
  windowLabel_ = new QLabel(this);
  row->addWidget(new QLabel(tr("Layer"), this));
  row->addWidget(layerSpin_);
  row->addWidget(windowLabel_);
  row->addStretch(1);
  controlsLayout()->addLayout(row);
  detail_ = addDetailLabel();
  connect(layerSpin_, &QSpinBox::valueChanged, this, [this](int v) {
    layer_ = v;
    userChanged();
  });
  syncControls();
}

std::vector<int> KnockoutView::blockedLayers() const {
  return windowLayers(layer_, window_, layers_);
}

std::vector<int> KnockoutView::figureLayers() const {
  std::vector<int> out(layers_);
  for (int l = 0; l < layers_; ++l) out[l] = l;
  return out;
}

double KnockoutView::patchRelevance(int row, int col) const {
  if (!relevance_ || row < 0 || col < 0 || row >= side_ || col >= side_) return NAN;
  return 100.0 * relevance_->at({layer_, int64_t(row) * side_ + col});
}

QString KnockoutView::blockedText(int centre) const {
  const std::vector<int> blocked = windowLayers(centre, window_, layers_);
  if (blocked.empty()) return tr("nothing blocked");
  if (blocked.size() == 1) return tr("blocks %1").arg(layerLabels_[blocked.front()]);
  return tr("blocks %1–%2").arg(layerLabels_[blocked.front()], layerLabels_[blocked.back()]);
}

QString KnockoutView::detailText() const {
  const QString head =
      layerLabels_[layer_] + QStringLiteral(" (") + blockedText(layer_) + QLatin1Char(')');
  QStringList parts;
  double lo = INFINITY, hi = -INFINITY;
  int examples = 0;
  for (const LineSeries& s : series_) {
    const double v = s.values[layer_];
    if (s.secondary) {
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      ++examples;
      continue;
    }
    parts << tr("%1 %2%").arg(s.name, formatValue(v, 3));
  }
  QString text = head + QStringLiteral(": ") + parts.join(QStringLiteral(", "));
  if (blocked_) text += tr("; p(answer) %1 blocked").arg(formatValue(blocked_->at({layer_}), 4));
  if (auto p = metaNumber(*result_, "p_clean")) text += tr(", %1 clean").arg(formatValue(*p, 4));
  if (examples > 0 && lo <= hi)
    text +=
        tr("\n%1 examples: %2% to %3%").arg(examples).arg(formatValue(lo, 3), formatValue(hi, 3));
  return text;
}

void KnockoutView::syncControls() {
  const QSignalBlocker b(layerSpin_);
  layerSpin_->setValue(layer_);
  windowLabel_->setText(tr("window %1: %2").arg(window_).arg(blockedText(layer_)));
  detail_->setText(detailText());
}

void KnockoutView::userChanged() {
  syncControls();
  updateFigure();
  emit stateChanged();
}

nlohmann::json KnockoutView::state() const { return {{"layer", layer_}, {"zoom", zoom()}}; }

void KnockoutView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("layer"); it != j.end() && it->is_number_integer())
    layer_ = std::clamp(it->get<int>(), 0, layers_ - 1);
  if (auto l = readIndexList(j.value("layers", nlohmann::json()), layers_); l && !l->empty())
    layer_ = l->front();
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  syncControls();
  updateFigure();
}

bool KnockoutView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
