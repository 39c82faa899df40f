// LogitLensView: data, controls, state and the detail panel. The figure is in
// logit_lens_figure.cpp.
#include "views/logit_lens_view.h"

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

bool LogitLensView::canShow(const Result& result) {
  if (result.probe != "logit_lens") return false;
  const Array* t = usableArray(result, "top_token");
  const Array* p = usableArray(result, "top_prob");
  return t && p && t->shape.size() == 3 && t->shape == p->shape;
}

LogitLensView::LogitLensView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  tokens_ = usableArray(*result_, "top_token");
  probs_ = usableArray(*result_, "top_prob");
  layers_ = static_cast<int>(tokens_->shape[0]);
  positions_ = static_cast<int>(tokens_->shape[1]);
  ranks_ = static_cast<int>(tokens_->shape[2]);
  const Array* answer = usableArray(*result_, "answer_logprob");
  if (answer && answer->shape == std::vector<int64_t>{layers_, positions_}) answer_ = answer;
  nlohmann::json inputTokens;
  if (auto in = result_->meta.find("inputs"); in != result_->meta.end() && in->is_object())
    inputTokens = in->value("tokens", nlohmann::json());
  if (tokens_->axes.size() == 3) {
    layerLabels_ = axisLabels(tokens_->axes[0], layers_);
    positionLabels_ = axisLabels(tokens_->axes[1], positions_, inputTokens);
  }
  if (layerLabels_.isEmpty())
    for (int l = 0; l < layers_; ++l) layerLabels_ << QStringLiteral("L%1").arg(l);
  position_ = positions_ - 1;
  scale_.autoRange = false;  // probabilities: the full 0–1 range by default
  scale_.min = 0;
  scale_.max = 1;

  auto* row = new QHBoxLayout;
  positionSpin_ = new QSpinBox(this);
  positionSpin_->setRange(0, positions_ - 1);
  positionSpin_->setToolTip(tr("Position whose answer log-prob is drawn across layers"));
  auto* positionLabel = new QLabel(tr("Answer at position"), this);
  positionLabel->setVisible(answer_ != nullptr);
  positionSpin_->setVisible(answer_ != nullptr);
  scaleEditor_ = new ColorScaleEditor(this);
  row->addWidget(positionLabel);
  row->addWidget(positionSpin_);
  row->addStretch(1);
  row->addWidget(scaleEditor_);
  controlsLayout()->addLayout(row);
  detail_ = addDetailLabel();

  connect(positionSpin_, &QSpinBox::valueChanged, this, [this](int v) {
    position_ = v;
    userChanged();
  });
  connect(scaleEditor_, &ColorScaleEditor::scaleChanged, this, [this](const ColorScale& s) {
    scale_ = s;
    userChanged();
  });
  rebuild();
  syncControls();
  showDetail();
}

void LogitLensView::rebuild() {
  rowLayers_.clear();
  top1_.clear();
  texts_.clear();
  for (int l = 0; l < layers_; ++l) {
    if (!selected(layerSel_, l)) continue;
    rowLayers_.push_back(l);
    for (int p = 0; p < positions_; ++p) {
      top1_.push_back(probs_->at({l, p, 0}));
      texts_ << cellText(l, p);
    }
  }
}

QString LogitLensView::cellText(int layer, int position) const {
  if (layer < 0 || layer >= layers_ || position < 0 || position >= positions_) return {};
  return tokenText(*result_, tokens_->at({layer, position, 0}));
}

QString LogitLensView::cellDescription(int layer, int position) const {
  if (layer < 0 || layer >= layers_ || position < 0 || position >= positions_) return {};
  QStringList lines{tr("%1, position %2 “%3”")
                        .arg(layerLabels_[layer])
                        .arg(position)
                        .arg(labelOrIndex(positionLabels_, position))};
  lines << topTokenLines(topTokens(*result_, int64_t(layer) * positions_ + position));
  if (answer_) lines << tr("answer log-prob = %1").arg(exactValue(answer_->at({layer, position})));
  return lines.join(QLatin1Char('\n'));
}

QString LogitLensView::detailText() const { return cellDescription(cellLayer_, cellPosition_); }

void LogitLensView::showDetail() {
  const QString text = compactDetail(detailText());
  detail_->setText(text.isEmpty() ? tr("Click a cell for its top tokens and probabilities.")
                                  : text);
}

void LogitLensView::syncControls() {
  const QSignalBlocker block(positionSpin_);
  positionSpin_->setValue(position_);
  scaleEditor_->setScale(scale_);
  const MatrixRef m{top1_.data(), static_cast<int>(rowLayers_.size()), positions_, positions_};
  const auto [lo, hi] = m.range();
  scaleEditor_->showResolved(scale_.resolved(lo, hi));
}

void LogitLensView::userChanged() {
  syncControls();
  showDetail();
  updateFigure();
  emit stateChanged();
}

nlohmann::json LogitLensView::state() const {
  return {{"position", position_},
          {"cell", cellLayer_ >= 0 ? nlohmann::json{cellLayer_, cellPosition_} : nlohmann::json()},
          {"layers", layerSel_},
          {"scale", scale_.toJson()},
          {"zoom", zoom()}};
}

void LogitLensView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("position"); it != j.end() && it->is_number_integer())
    position_ = std::clamp(it->get<int>(), 0, positions_ - 1);
  if (auto it = j.find("cell"); it != j.end()) {
    if (it->is_null()) cellLayer_ = cellPosition_ = -1;
    if (it->is_array() && it->size() == 2 && (*it)[0].is_number_integer() &&
        (*it)[1].is_number_integer()) {
      cellLayer_ = std::clamp((*it)[0].get<int>(), 0, layers_ - 1);
      cellPosition_ = std::clamp((*it)[1].get<int>(), 0, positions_ - 1);
    }
  }
  if (auto l = readIndexList(j.value("layers", nlohmann::json()), layers_)) layerSel_ = *l;
  scale_ = ColorScale::fromJson(j.value("scale", nlohmann::json()), scale_);
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  rebuild();
  syncControls();
  showDetail();
  updateFigure();
}

std::vector<int> LogitLensView::figureLayers() const { return rowLayers_; }

bool LogitLensView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
