// DlaView: components, controls and state. The figure is in dla_figure.cpp.
#include "views/dla_view.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/color_scale_editor.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr int kMaxTop = 500;

}  // namespace

bool DlaView::canShow(const Result& result) {
  if (result.probe != "logit_attribution") return false;
  const Array* heads = usableArray(result, "heads");
  const Array* mlp = usableArray(result, "mlp");
  return (heads && heads->shape.size() == 2) || (mlp && mlp->shape.size() == 1);
}

DlaView::DlaView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  const Array* heads = usableArray(*result_, "heads");
  if (heads && heads->shape.size() != 2) heads = nullptr;
  if (heads) {
    layers_ = static_cast<int>(heads->shape[0]);
    heads_ = static_cast<int>(heads->shape[1]);
    layerLabels_ = axisLabelsOr(*heads, 0, "L");
    headLabels_ = axisLabelsOr(*heads, 1, "H");
    for (int l = 0; l < layers_; ++l)
      for (int h = 0; h < heads_; ++h)
        components_.push_back({layerLabels_[l] + headLabels_[h], heads->at({l, h}), l});
  }
  if (const Array* mlp = usableArray(*result_, "mlp"); mlp && mlp->shape.size() == 1) {
    layers_ = std::max(layers_, static_cast<int>(mlp->shape[0]));
    for (int l = 0; l < mlp->shape[0]; ++l)
      components_.push_back({QStringLiteral("MLP%1").arg(l), mlp->data[l], l});
  }
  if (const Array* other = usableArray(*result_, "other"); other && other->shape.size() == 1) {
    const QStringList names = axisLabelsOr(*other, 0, "term ");
    for (int t = 0; t < other->shape[0]; ++t) components_.push_back({names[t], other->data[t], -1});
  }
  for (const Component& c : components_) sum_ += c.value;
  if (const Array* n = usableArray(*result_, "neurons"); n && n->shape.size() == 2) {
    const QStringList layerNames = axisLabelsOr(*n, 0, "L");
    for (int l = 0; l < n->shape[0]; ++l)
      for (int i = 0; i < n->shape[1]; ++i)
        neurons_.push_back({layerNames[l] + QStringLiteral("N%1").arg(i),
                            n->data[int64_t(l) * n->shape[1] + i], l});
  }
  scale_.kind = ColorScale::Kind::Diverging;

  auto* row = new QHBoxLayout;
  topSpin_ = new QSpinBox(this);
  topSpin_->setRange(1, kMaxTop);
  topSpin_->setToolTip(tr("How many components the bar chart shows (largest |value| first)"));
  neuronsBox_ = new QCheckBox(tr("Neurons"), this);
  neuronsBox_->setToolTip(tr("Rank single MLP neurons with the heads and MLPs"));
  neuronsBox_->setVisible(!neurons_.empty());
  scaleEditor_ = new ColorScaleEditor(this);
  row->addWidget(new QLabel(tr("Top"), this));
  row->addWidget(topSpin_);
  row->addWidget(neuronsBox_);
  row->addStretch(1);
  row->addWidget(scaleEditor_);
  controlsLayout()->addLayout(row);
  connect(topSpin_, &QSpinBox::valueChanged, this, [this](int v) {
    top_ = v;
    userChanged();
  });
  connect(neuronsBox_, &QCheckBox::toggled, this, [this](bool on) {
    showNeurons_ = on;
    userChanged();
  });
  connect(scaleEditor_, &ColorScaleEditor::scaleChanged, this, [this](const ColorScale& s) {
    scale_ = s;
    userChanged();
  });
  rebuildHeads();
  syncControls();
}

void DlaView::rebuildHeads() {
  headCells_.clear();
  headRowLabels_.clear();
  const Array* heads = usableArray(*result_, "heads");
  if (!heads || heads->shape.size() != 2) return;
  for (int l = 0; l < layers_; ++l) {
    if (!selected(layerSel_, l)) continue;
    headRowLabels_ << layerLabels_[l];
    for (int h = 0; h < heads_; ++h) headCells_.push_back(heads->at({l, h}));
  }
}

std::vector<DlaView::Component> DlaView::shownComponents() const {
  std::vector<Component> all;
  auto add = [&](const std::vector<Component>& from) {
    for (const Component& c : from)
      if (c.layer < 0 || selected(layerSel_, c.layer)) all.push_back(c);
  };
  add(components_);
  if (showNeurons_) add(neurons_);
  const size_t n = std::min<size_t>(all.size(), static_cast<size_t>(top_));
  // Largest magnitude first; NaN last; ties keep the array order.
  auto magnitude = [](const Component& c) {
    return std::isfinite(c.value) ? std::abs(c.value) : -1;
  };
  std::stable_sort(all.begin(), all.end(), [&](const Component& a, const Component& b) {
    return magnitude(a) > magnitude(b);
  });
  all.resize(n);
  return all;
}

void DlaView::syncControls() {
  const QSignalBlocker b1(topSpin_), b2(neuronsBox_);
  topSpin_->setValue(top_);
  neuronsBox_->setChecked(showNeurons_);
  scaleEditor_->setScale(scale_);
  scaleEditor_->showResolved(resolvedScale());
}

void DlaView::userChanged() {
  syncControls();
  updateFigure();
  emit stateChanged();
}

nlohmann::json DlaView::state() const {
  return {{"top", top_},
          {"neurons", showNeurons_},
          {"layers", layerSel_},
          {"scale", scale_.toJson()},
          {"zoom", zoom()}};
}

void DlaView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("top"); it != j.end() && it->is_number_integer())
    top_ = std::clamp(it->get<int>(), 1, kMaxTop);
  if (auto it = j.find("neurons"); it != j.end() && it->is_boolean())
    showNeurons_ = it->get<bool>() && !neurons_.empty();
  if (auto l = readIndexList(j.value("layers", nlohmann::json()), layers_)) layerSel_ = *l;
  scale_ = ColorScale::fromJson(j.value("scale", nlohmann::json()), scale_);
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  rebuildHeads();
  syncControls();
  updateFigure();
}

std::vector<int> DlaView::figureLayers() const {
  std::vector<int> out;
  for (int l = 0; l < layers_; ++l)
    if (selected(layerSel_, l)) out.push_back(l);
  return out;
}

bool DlaView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
