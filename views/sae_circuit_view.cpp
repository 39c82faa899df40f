// SaeCircuitView: the scores, the truth heads, the edge threshold, controls and state. The
// figures are in sae_circuit_figure.cpp.
#include "views/sae_circuit_view.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "views/axis_labels.h"
#include "views/colormap.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr int kSliderSteps = 1000;
constexpr int kDetailHeads = 8;

const Array* headArray(const Result& r, const std::string& name, int64_t layers, int64_t heads) {
  const Array* a = usableArray(r, name);
  return a && a->shape == std::vector<int64_t>{layers, heads} ? a : nullptr;
}

}  // namespace

const char* SaeCircuitView::figureName(Figure f) {
  switch (f) {
    case Figure::Heads:
      return "heads";
    case Figure::Graph:
      return "graph";
    case Figure::Roc:
      return "roc";
  }
  return "heads";
}

bool SaeCircuitView::canShow(const Result& result) {
  if (result.probe != "sae_circuit") return false;
  const Array* a = usableArray(result, "head_score");
  return a && a->shape.size() == 2 && a->shape[0] > 0 && a->shape[1] > 0;
}

SaeCircuitView::SaeCircuitView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  const Array& s = *usableArray(*result_, "head_score");
  layers_ = static_cast<int>(s.shape[0]);
  heads_ = static_cast<int>(s.shape[1]);
  layerLabels_ = axisLabelsOr(s, 0, "L");
  headLabels_ = axisLabelsOr(s, 1, "H");
  score_ = s.data;
  if (const Array* c = headArray(*result_, "head_count", layers_, heads_)) count_ = c->data;
  if (const Array* e = headArray(*result_, "truth_effect", layers_, heads_)) effect_ = e->data;

  // The truth: meta["truth_heads"] ("L1H2"), else |truth_effect| above meta["truth_threshold"].
  truth_.assign(size_t(layers_) * heads_, false);
  const auto it = result_->meta.find("truth_heads");
  if (it != result_->meta.end() && it->is_array()) {
    for (const auto& name : *it) {
      int l = -1, h = -1;
      if (name.is_string() && std::sscanf(name.get<std::string>().c_str(), "L%dH%d", &l, &h) == 2 &&
          l >= 0 && l < layers_ && h >= 0 && h < heads_)
        truth_[size_t(l) * heads_ + h] = true;
    }
  } else if (const auto t = metaNumber(*result_, "truth_threshold"); t && !effect_.empty()) {
    for (size_t i = 0; i < truth_.size(); ++i) truth_[i] = std::abs(effect_[i]) > *t;
  }

  if (const Array* e = usableArray(*result_, "edge_score");
      e && e->shape == std::vector<int64_t>{layers_, heads_, layers_, heads_}) {
    edges_ = e;
    const int n = layers_ * heads_;
    for (int s = 0; s < n; ++s)
      for (int r = 0; r < n; ++r) {
        const float v = e->data[size_t(s) * n + r];
        if (s / heads_ >= r / heads_ || !std::isfinite(v)) continue;  // only earlier → later
        edgeMax_ = std::max<double>(edgeMax_, v);
        integerEdges_ = integerEdges_ && v == std::round(v);
      }
  }
  threshold_ = defaultThreshold();

  auto* row = new QHBoxLayout;
  figureBox_ = new QComboBox(this);
  figureBox_->addItem(tr("Ranked heads"));
  figureBox_->addItem(tr("Circuit graph"));
  figureBox_->addItem(tr("ROC curve"));
  thresholdLabel_ = new QLabel(tr("Edge threshold"), this);
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setRange(0, kSliderSteps);
  slider_->setToolTip(
      tr("The graph hides edges whose score (code pairs seen on positives only) "
         "is below the threshold"));
  spin_ = new QDoubleSpinBox(this);
  spin_->setDecimals(integerEdges_ ? 0 : 3);
  spin_->setSingleStep(integerEdges_ ? 1 : 0.01);
  row->addWidget(new QLabel(tr("Figure"), this));
  row->addWidget(figureBox_);
  row->addWidget(thresholdLabel_);
  row->addWidget(slider_, 1);
  row->addWidget(spin_);
  row->addStretch(0);
  controlsLayout()->addLayout(row);
  detail_ = addDetailLabel();

  connect(figureBox_, &QComboBox::activated, this, [this](int i) {
    figure_ = static_cast<Figure>(std::clamp(i, 0, 2));
    userChanged();
  });
  connect(slider_, &QSlider::valueChanged, this, [this](int v) {
    double t = edgeMax_ * v / kSliderSteps;
    if (integerEdges_) t = std::round(t);
    threshold_ = t;
    userChanged();
  });
  connect(spin_, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    threshold_ = v;
    userChanged();
  });
  syncControls();
}

double SaeCircuitView::defaultThreshold() const {
  if (edgeMax_ <= 0) return 0;
  return integerEdges_ ? std::ceil(edgeMax_ / 2) : edgeMax_ / 2;
}

double SaeCircuitView::score(int layer, int head) const {
  if (layer < 0 || layer >= layers_ || head < 0 || head >= heads_) return NAN;
  return score_[size_t(layer) * heads_ + head];
}

bool SaeCircuitView::isTruth(int layer, int head) const {
  if (layer < 0 || layer >= layers_ || head < 0 || head >= heads_) return false;
  return truth_[size_t(layer) * heads_ + head];
}

QString SaeCircuitView::headLabel(int layer, int head) const {
  return layerLabels_.value(layer) + headLabels_.value(head);
}

std::vector<SaeCircuitView::RankedHead> SaeCircuitView::rankedHeads() const {
  std::vector<RankedHead> all;
  for (int l = 0; l < layers_; ++l)
    for (int h = 0; h < heads_; ++h)
      if (std::isfinite(score(l, h)))
        all.push_back({l, h, headLabel(l, h), score(l, h), isTruth(l, h)});
  std::stable_sort(all.begin(), all.end(),
                   [](const RankedHead& a, const RankedHead& b) { return a.score > b.score; });
  if (int(all.size()) > kTopHeads) all.resize(kTopHeads);
  return all;
}

std::vector<GraphEdge> SaeCircuitView::visibleEdges() const {
  std::vector<GraphEdge> out;
  if (!edges_) return out;
  const int n = layers_ * heads_;
  for (int s = 0; s < n; ++s)
    for (int r = 0; r < n; ++r) {
      if (s / heads_ >= r / heads_) continue;
      const float v = edges_->data[size_t(s) * n + r];
      if (std::isfinite(v) && v > 0 && v >= threshold_) out.push_back({s, r, v});
    }
  return out;
}

std::optional<double> SaeCircuitView::auc() const { return metaNumber(*result_, "auc"); }
std::optional<double> SaeCircuitView::edgeAuc() const { return metaNumber(*result_, "edge_auc"); }

QString SaeCircuitView::detailText() const {
  QStringList lines;
  QStringList top;
  const auto ranked = rankedHeads();
  for (int i = 0; i < std::min<int>(kDetailHeads, ranked.size()); ++i)
    top << QStringLiteral("%1%2 %3").arg(ranked[i].label,
                                         ranked[i].truth ? QStringLiteral("*") : QString(),
                                         formatValue(ranked[i].score, 3));
  lines << tr("Top heads (* patching truth): %1").arg(top.join(QStringLiteral(", ")));
  QStringList truth;
  for (int l = 0; l < layers_; ++l)
    for (int h = 0; h < heads_; ++h)
      if (isTruth(l, h))
        truth << (effect_.empty()
                      ? headLabel(l, h)
                      : QStringLiteral("%1 %2").arg(
                            headLabel(l, h), formatValue(effect_[size_t(l) * heads_ + h], 3)));
  const auto t = metaNumber(*result_, "truth_threshold");
  lines << tr("Patching truth (|effect| > %1): %2")
               .arg(t ? formatValue(*t) : QStringLiteral("?"),
                    truth.isEmpty() ? tr("no head") : truth.join(QStringLiteral(", ")));
  // The SAE's fit: a small explained variance means λ silenced most latents (codes −1).
  const auto sae = result_->meta.find("sae");
  if (sae != result_->meta.end() && sae->is_object()) {
    auto number = [&](const char* key) {
      const auto v = sae->find(key);
      return v != sae->end() && v->is_number() ? formatValue(v->get<double>(), 3)
                                               : QStringLiteral("?");
    };
    lines << tr("SAE: %1 latents, λ %2, %3 distinct codes, explained variance %4.")
                 .arg(number("latents"), number("l1"), number("distinct_codes"),
                      number("explained_variance"));
  }
  if (figure_ == Figure::Graph)
    lines << tr("%n edge(s) at or above %1 of at most %2.", nullptr, int(visibleEdges().size()))
                 .arg(formatValue(threshold_), formatValue(edgeMax_));
  return lines.join(QLatin1Char('\n'));
}

void SaeCircuitView::syncControls() {
  const QSignalBlocker b1(figureBox_), b2(slider_), b3(spin_);
  figureBox_->setCurrentIndex(static_cast<int>(figure_));
  const bool graph = figure_ == Figure::Graph;
  thresholdLabel_->setEnabled(graph && edges_);
  slider_->setEnabled(graph && edges_);
  spin_->setEnabled(graph && edges_);
  spin_->setRange(0, std::max(edgeMax_, threshold_));
  spin_->setValue(threshold_);
  slider_->setValue(
      edgeMax_ > 0 ? int(std::lround(std::clamp(threshold_ / edgeMax_, 0.0, 1.0) * kSliderSteps))
                   : 0);
  detail_->setText(detailText());
}

void SaeCircuitView::userChanged() {
  syncControls();
  updateFigure();
  emit stateChanged();
}

nlohmann::json SaeCircuitView::state() const {
  return {{"figure", figureName(figure_)}, {"threshold", threshold_}, {"zoom", zoom()}};
}

void SaeCircuitView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("figure"); it != j.end() && it->is_string())
    for (Figure f : {Figure::Heads, Figure::Graph, Figure::Roc})
      if (it->get<std::string>() == figureName(f)) figure_ = f;
  if (auto it = j.find("threshold");
      it != j.end() && it->is_number() && std::isfinite(it->get<double>()))
    threshold_ = std::max(0.0, it->get<double>());
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  syncControls();
  updateFigure();
}

bool SaeCircuitView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
