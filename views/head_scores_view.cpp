// HeadScoresView: the score arrays, controls, state and the detail panel. The figure is in
// head_scores_figure.cpp.
#include "views/head_scores_view.h"

#include <QComboBox>
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

constexpr const char* kOffsetArray = "induction_offset";
constexpr int kDetailHeads = 12;  // heads listed in the panel under the figure

std::vector<std::string> candidates(const Result& r) {
  if (r.probe == "head_detector")
    return {"previous_token", "duplicate_token", "induction", kOffsetArray};
  if (r.probe == "retrieval_heads") return {"score"};
  return {};
}

// The arrays of `r` that hold per-head scores of one [layers, heads] shape (the first 2-d one's).
std::vector<std::string> scoreArrays(const Result& r) {
  std::vector<std::string> out;
  std::vector<int64_t> shape;
  for (const std::string& name : candidates(r)) {
    const Array* a = usableArray(r, name);
    if (!a || a->shape.size() != (name == kOffsetArray ? 3u : 2u)) continue;
    const std::vector<int64_t> lh(a->shape.begin(), a->shape.begin() + 2);
    if (shape.empty()) shape = lh;
    if (lh == shape) out.push_back(name);
  }
  return out;
}

}  // namespace

bool HeadScoresView::canShow(const Result& result) { return !scoreArrays(result).empty(); }

HeadScoresView::HeadScoresView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  names_ = scoreArrays(*result_);
  const Array& first = *usableArray(*result_, names_.front());
  layers_ = static_cast<int>(first.shape[0]);
  heads_ = static_cast<int>(first.shape[1]);
  layerLabels_ = axisLabelsOr(first, 0, "L");
  headLabels_ = axisLabelsOr(first, 1, "H");
  if (const Array* o = usableArray(*result_, kOffsetArray);
      o && std::find(names_.begin(), names_.end(), kOffsetArray) != names_.end()) {
    offsets_ = static_cast<int>(o->shape[2]);
    offsetLabels_ = axisLabelsOr(*o, 2, "");
  }
  if (const Array* p = usableArray(*result_, "pattern");
      p && p->shape.size() == 4 && p->shape[0] == layers_ && p->shape[1] == heads_) {
    pattern_ = p;
    queryLabels_ = axisLabelsOr(*p, 2, "");
    keyLabels_ = axisLabelsOr(*p, 3, "");
  }
  const bool retrieval = result_->probe == "retrieval_heads";
  threshold_ = metaNumber(*result_, "threshold").value_or(retrieval ? 0.1 : 0.5);
  array_ = std::find(names_.begin(), names_.end(), "induction") != names_.end() ? "induction"
                                                                                : names_.front();
  offset_ = std::min(1, std::max(0, offsets_ - 1));  // d = 1: induction

  auto* row = new QHBoxLayout;
  arrayBox_ = addArrayChooser(row, names_, [this](const std::string& name) {
    array_ = name;
    userChanged();
  });
  offsetLabel_ = new QLabel(tr("Offset d"), this);
  offsetSpin_ = new QSpinBox(this);
  offsetSpin_->setRange(0, std::max(0, offsets_ - 1));
  offsetSpin_->setToolTip(
      tr("Share of attention d tokens past an earlier copy (0: duplicate, 1: induction)"));
  scaleEditor_ = new ColorScaleEditor(this);
  row->addWidget(offsetLabel_);
  row->addWidget(offsetSpin_);
  row->addWidget(new QLabel(tr("Click a head for its details and attention map."), this));
  row->addStretch(1);
  row->addWidget(scaleEditor_);
  controlsLayout()->addLayout(row);
  detail_ = addDetailLabel();

  connect(offsetSpin_, &QSpinBox::valueChanged, this, [this](int v) {
    offset_ = v;
    userChanged();
  });
  connect(scaleEditor_, &ColorScaleEditor::scaleChanged, this, [this](const ColorScale& s) {
    scale_ = s;
    userChanged();
  });
  rebuild();
  syncControls();
}

void HeadScoresView::rebuild() {
  const Array& a = *usableArray(*result_, array_);
  cells_.assign(size_t(layers_) * heads_, NAN);
  const bool byOffset = array_ == kOffsetArray;
  for (int l = 0; l < layers_; ++l)
    for (int h = 0; h < heads_; ++h)
      cells_[size_t(l) * heads_ + h] = byOffset ? a.at({l, h, offset_}) : a.at({l, h});
}

std::optional<std::pair<int, int>> HeadScoresView::selectedHead() const {
  if (layer_ < 0) return std::nullopt;
  return std::make_pair(layer_, head_);
}

double HeadScoresView::score(int layer, int head) const {
  if (layer < 0 || layer >= layers_ || head < 0 || head >= heads_) return NAN;
  return cells_[size_t(layer) * heads_ + head];
}

QString HeadScoresView::headLabel(int layer, int head) const {
  return layerLabels_[layer] + headLabels_[head];
}

std::vector<HeadScoresView::HeadScore> HeadScoresView::headsAbove() const {
  std::vector<HeadScore> out;
  for (int l = 0; l < layers_; ++l)
    for (int h = 0; h < heads_; ++h) {
      const double v = score(l, h);
      if (std::isfinite(v) && v > threshold_) out.push_back({l, h, headLabel(l, h), v});
    }
  std::stable_sort(out.begin(), out.end(),
                   [](const HeadScore& a, const HeadScore& b) { return a.value > b.value; });
  return out;
}

std::pair<double, double> HeadScoresView::histogramRange() const {
  double lo = 0, hi = 1;
  for (float v : cells_)
    if (std::isfinite(v)) {
      lo = std::min<double>(lo, v);
      hi = std::max<double>(hi, v);
    }
  return {lo, hi};
}

std::vector<int> HeadScoresView::histogram() const {
  std::vector<int> counts(kBins, 0);
  const auto [lo, hi] = histogramRange();
  for (float v : cells_)
    if (std::isfinite(v))
      ++counts[std::clamp(static_cast<int>((v - lo) / (hi - lo) * kBins), 0, kBins - 1)];
  return counts;
}

bool HeadScoresView::showsPattern() const { return pattern_ && layer_ >= 0; }

QString HeadScoresView::detailText() const {
  QStringList lines;
  if (layer_ >= 0) {
    QStringList scores;
    for (const std::string& name : names_) {
      const Array& a = *usableArray(*result_, name);
      if (name == kOffsetArray) {
        QStringList byOffset;
        for (int d = 0; d < offsets_; ++d) byOffset << formatValue(a.at({layer_, head_, d}), 3);
        scores << tr("%1 (d = 0…%2) %3")
                      .arg(QString::fromStdString(name))
                      .arg(offsets_ - 1)
                      .arg(byOffset.join(QStringLiteral(", ")));
      } else {
        scores << QStringLiteral("%1 %2").arg(QString::fromStdString(name),
                                              formatValue(a.at({layer_, head_}), 4));
      }
    }
    lines << headLabel(layer_, head_) + QStringLiteral(": ") + scores.join(QStringLiteral("; "));
  } else {
    lines << tr("Click a head for its scores%1.")
                 .arg(pattern_ ? tr(" and attention map") : QString());
  }
  const std::vector<HeadScore> above = headsAbove();
  QStringList heads;
  for (int i = 0; i < std::min<int>(kDetailHeads, above.size()); ++i)
    heads << QStringLiteral("%1 %2").arg(above[i].label, formatValue(above[i].value, 3));
  if (int(above.size()) > kDetailHeads) heads << tr("… %1 more").arg(above.size() - kDetailHeads);
  lines << (above.empty() ? tr("No heads above the threshold %1.").arg(formatValue(threshold_))
                          : tr("%1 heads above %2: %3")
                                .arg(above.size())
                                .arg(formatValue(threshold_), heads.join(QStringLiteral(", "))));
  return lines.join(QLatin1Char('\n'));
}

void HeadScoresView::syncControls() {
  const QSignalBlocker b1(arrayBox_), b2(offsetSpin_);
  arrayBox_->setCurrentIndex(int(std::find(names_.begin(), names_.end(), array_) - names_.begin()));
  offsetSpin_->setValue(offset_);
  const bool byOffset = array_ == kOffsetArray;
  offsetLabel_->setVisible(byOffset);
  offsetSpin_->setVisible(byOffset);
  scaleEditor_->setScale(scale_);
  scaleEditor_->showResolved(resolvedScale());
  detail_->setText(detailText());
}

void HeadScoresView::userChanged() {
  rebuild();
  syncControls();
  updateFigure();
  emit stateChanged();
}

nlohmann::json HeadScoresView::state() const {
  return {{"array", array_},
          {"offset", offset_},
          {"head", layer_ >= 0 ? nlohmann::json{layer_, head_} : nlohmann::json()},
          {"scale", scale_.toJson()},
          {"zoom", zoom()}};
}

void HeadScoresView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("array");
      it != j.end() && it->is_string() &&
      std::find(names_.begin(), names_.end(), it->get<std::string>()) != names_.end())
    array_ = it->get<std::string>();
  if (auto it = j.find("offset"); it != j.end() && it->is_number_integer())
    offset_ = std::clamp(it->get<int>(), 0, std::max(0, offsets_ - 1));
  if (auto it = j.find("head"); it != j.end()) {
    if (it->is_null()) layer_ = head_ = -1;
    if (it->is_array() && it->size() == 2 && (*it)[0].is_number_integer() &&
        (*it)[1].is_number_integer()) {
      layer_ = std::clamp((*it)[0].get<int>(), 0, layers_ - 1);
      head_ = std::clamp((*it)[1].get<int>(), 0, heads_ - 1);
    }
  }
  scale_ = ColorScale::fromJson(j.value("scale", nlohmann::json()), scale_);
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  rebuild();
  syncControls();
  updateFigure();
}

bool HeadScoresView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
