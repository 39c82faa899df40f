// AttentionView: data, controls and state. Painting, layout and hit-testing are in
// attention_figure.cpp.
#include "views/attention_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/color_scale_editor.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

const char* modeName(AttentionView::Mode m) {
  switch (m) {
    case AttentionView::Mode::All:
      return "all";
    case AttentionView::Mode::Head:
      return "head";
    default:
      return "layer";
  }
}

// An inclusive [from, to] range from JSON, clamped to [0, n - 1]; `from`/`to` kept when absent.
void readRange(const nlohmann::json& j, int n, int& from, int& to) {
  if (j.is_array() && j.size() == 2 && j[0].is_number_integer() && j[1].is_number_integer()) {
    from = j[0].get<int>();
    to = j[1].get<int>();
  }
  from = std::clamp(from, 0, std::max(0, n - 1));
  to = std::clamp(to, from, std::max(0, n - 1));
}

}  // namespace

bool AttentionView::canShow(const Result& result) {
  if (result.probe != "attention") return false;
  auto it = result.arrays.find("pattern");
  if (it == result.arrays.end()) return false;
  const Array& a = it->second;
  return (a.shape.size() == 4 || a.shape.size() == 3) && a.numel() > 0 &&
         static_cast<int64_t>(a.data.size()) == a.numel();
}

AttentionView::AttentionView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  pattern_ = &result_->array("pattern");
  const auto& shape = pattern_->shape;
  const size_t d = shape.size();  // 4: [layer, head, query, key]; 3: [head, query, key]
  layers_ = d == 4 ? static_cast<int>(shape[0]) : 1;
  heads_ = static_cast<int>(shape[d - 3]);
  queries_ = static_cast<int>(shape[d - 2]);
  keys_ = static_cast<int>(shape[d - 1]);
  const auto& axes = pattern_->axes;
  nlohmann::json tokens;
  if (auto in = result_->meta.find("inputs"); in != result_->meta.end() && in->is_object())
    tokens = in->value("tokens", nlohmann::json());
  if (axes.size() == d) {
    if (d == 4) layerLabels_ = axisLabels(axes[0], layers_);
    headLabels_ = axisLabels(axes[d - 3], heads_);
    queryLabels_ = axisLabels(axes[d - 2], queries_, tokens);
    keyLabels_ = axisLabels(axes[d - 1], keys_, tokens);
  }
  mode_ = layers_ * heads_ > 1 ? Mode::Layer : Mode::Head;
  q1_ = queries_ - 1;
  k1_ = keys_ - 1;
  buildControls();
  syncControls();
}

void AttentionView::buildControls() {
  auto* row1 = new QHBoxLayout;
  modeBox_ = new QComboBox(this);
  modeBox_->addItems({tr("Heads of a layer"), tr("All layers"), tr("One head")});
  layerSpin_ = new QSpinBox(this);
  layerSpin_->setRange(0, layers_ - 1);
  headSpin_ = new QSpinBox(this);
  headSpin_->setRange(0, heads_ - 1);
  row1->addWidget(new QLabel(tr("Show"), this));
  row1->addWidget(modeBox_);
  row1->addSpacing(8);
  row1->addWidget(new QLabel(tr("Layer"), this));
  row1->addWidget(layerSpin_);
  row1->addWidget(new QLabel(tr("Head"), this));
  row1->addWidget(headSpin_);
  row1->addStretch(1);
  scaleEditor_ = new ColorScaleEditor(this);
  row1->addWidget(scaleEditor_);

  auto* row2 = new QHBoxLayout;
  auto spin = [this](int n) {
    auto* s = new QSpinBox(this);
    s->setRange(0, std::max(0, n - 1));
    return s;
  };
  q0Spin_ = spin(queries_);
  q1Spin_ = spin(queries_);
  k0Spin_ = spin(keys_);
  k1Spin_ = spin(keys_);
  q0Spin_->setToolTip(tr("First query token shown"));
  q1Spin_->setToolTip(tr("Last query token shown"));
  k0Spin_->setToolTip(tr("First key token shown"));
  k1Spin_->setToolTip(tr("Last key token shown"));
  row2->addWidget(new QLabel(tr("Queries"), this));
  row2->addWidget(q0Spin_);
  row2->addWidget(new QLabel(QStringLiteral("–"), this));
  row2->addWidget(q1Spin_);
  row2->addSpacing(8);
  row2->addWidget(new QLabel(tr("Keys"), this));
  row2->addWidget(k0Spin_);
  row2->addWidget(new QLabel(QStringLiteral("–"), this));
  row2->addWidget(k1Spin_);
  row2->addStretch(1);
  controlsLayout()->addLayout(row1);
  controlsLayout()->addLayout(row2);

  connect(modeBox_, &QComboBox::activated, this, [this](int i) {
    setMode(static_cast<Mode>(i));
    userChanged();
  });
  // Choosing a layer or head outside the chosen ones shows them all again.
  connect(layerSpin_, &QSpinBox::valueChanged, this, [this](int v) {
    layer_ = v;
    if (!selected(layerSel_, v)) layerSel_.clear();
    userChanged();
  });
  connect(headSpin_, &QSpinBox::valueChanged, this, [this](int v) {
    head_ = v;
    if (!selected(headSel_, v)) headSel_.clear();
    userChanged();
  });
  // Keep from ≤ to: moving one end past the other drags the other along.
  connect(q0Spin_, &QSpinBox::valueChanged, this, [this](int v) {
    q0_ = v;
    q1_ = std::max(q1_, v);
    userChanged();
  });
  connect(q1Spin_, &QSpinBox::valueChanged, this, [this](int v) {
    q1_ = v;
    q0_ = std::min(q0_, v);
    userChanged();
  });
  connect(k0Spin_, &QSpinBox::valueChanged, this, [this](int v) {
    k0_ = v;
    k1_ = std::max(k1_, v);
    userChanged();
  });
  connect(k1Spin_, &QSpinBox::valueChanged, this, [this](int v) {
    k1_ = v;
    k0_ = std::min(k0_, v);
    userChanged();
  });
  connect(scaleEditor_, &ColorScaleEditor::scaleChanged, this, [this](const ColorScale& s) {
    scale_ = s;
    userChanged();
  });
}

void AttentionView::syncControls() {
  const QSignalBlocker b0(modeBox_), b1(layerSpin_), b2(headSpin_), b3(q0Spin_), b4(q1Spin_),
      b5(k0Spin_), b6(k1Spin_);
  modeBox_->setCurrentIndex(static_cast<int>(mode_));
  layerSpin_->setValue(layer_);
  headSpin_->setValue(head_);
  layerSpin_->setEnabled(mode_ != Mode::All && layers_ > 1);
  headSpin_->setEnabled(mode_ == Mode::Head && heads_ > 1);
  q0Spin_->setValue(q0_);
  q1Spin_->setValue(q1_);
  k0Spin_->setValue(k0_);
  k1Spin_->setValue(k1_);
  scaleEditor_->setScale(scale_);
  scaleEditor_->showResolved(resolvedScale());
}

void AttentionView::userChanged() {
  syncControls();
  updateFigure();
  emit stateChanged();
}

void AttentionView::setMode(Mode mode) {
  mode_ = mode;
  if (mode_ != Mode::Head) setZoom(1.0);  // zoom is for single heads
}

nlohmann::json AttentionView::state() const {
  nlohmann::json j = {{"mode", modeName(mode_)}, {"layer", layer_},   {"head", head_},
                      {"query", {q0_, q1_}},     {"key", {k0_, k1_}}, {"scale", scale_.toJson()},
                      {"zoom", zoom()}};
  if (!layerSel_.empty()) j["layers"] = layerSel_;
  if (!headSel_.empty()) j["heads"] = headSel_;
  return j;
}

std::vector<int> AttentionView::shownLayers() const {
  std::vector<int> out;
  for (int l = 0; l < layers_; ++l)
    if (selected(layerSel_, l)) out.push_back(l);
  return out;
}

std::vector<int> AttentionView::shownHeads() const {
  std::vector<int> out;
  for (int h = 0; h < heads_; ++h)
    if (selected(headSel_, h)) out.push_back(h);
  return out;
}

std::vector<int> AttentionView::figureLayers() const { return shownLayers(); }

void AttentionView::keepInSelection() {
  if (!selected(layerSel_, layer_)) layer_ = layerSel_.front();
  if (!selected(headSel_, head_)) head_ = headSel_.front();
}

void AttentionView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("mode"); it != j.end() && it->is_string()) {
    const std::string m = *it;
    if (m == "layer") setMode(Mode::Layer);
    if (m == "all") setMode(Mode::All);
    if (m == "head") setMode(Mode::Head);
  }
  if (j.contains("layer") && j["layer"].is_number_integer()) layer_ = j["layer"].get<int>();
  if (j.contains("head") && j["head"].is_number_integer()) head_ = j["head"].get<int>();
  layer_ = std::clamp(layer_, 0, layers_ - 1);
  head_ = std::clamp(head_, 0, heads_ - 1);
  if (auto l = readIndexList(j.value("layers", nlohmann::json()), layers_)) layerSel_ = *l;
  if (auto h = readIndexList(j.value("heads", nlohmann::json()), heads_)) headSel_ = *h;
  keepInSelection();
  readRange(j.value("query", nlohmann::json()), queries_, q0_, q1_);
  readRange(j.value("key", nlohmann::json()), keys_, k0_, k1_);
  scale_ = ColorScale::fromJson(j.value("scale", nlohmann::json()), scale_);
  if (mode_ == Mode::Head && j.contains("zoom") && j["zoom"].is_number())
    setZoom(j["zoom"].get<double>());
  syncControls();
  updateFigure();
}

void AttentionView::canvasClicked(const QPoint& pos) {
  if (mode_ == Mode::Head) return;
  const Hit hit = hitTest(canvas()->rect(), pos);
  if (hit.layer < 0) return;
  layer_ = hit.layer;
  head_ = hit.head;
  setMode(Mode::Head);
  userChanged();
}

bool AttentionView::canvasWheel(QWheelEvent* event) {
  if (mode_ != Mode::Head || event->angleDelta().y() == 0) return false;
  const double steps = event->angleDelta().y() / 120.0;
  zoomByUser(zoom() * std::pow(1.25, steps), canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
