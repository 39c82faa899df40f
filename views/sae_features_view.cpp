// SaeFeaturesView: data, controls, state and the detail panel. The figure is in
// sae_features_figure.cpp.
#include "views/sae_features_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/color_scale_editor.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr int kHeatmapRows = 12;  // features drawn in the heatmap

bool sameShape2(const Array* a, const Array* b, int64_t rows) {
  return a && b && a->shape.size() == 2 && a->shape == b->shape && a->shape[0] == rows;
}

}  // namespace

bool SaeFeaturesView::canShow(const Result& result) {
  if (result.probe != "sae_features") return false;
  const Array* acts = usableArray(result, "feature_acts");
  if (!acts || acts->shape.size() != 2 || acts->shape[0] < 1 || acts->shape[1] < 1) return false;
  const Array* ids = usableArray(result, "top_features");
  return sameShape2(ids, usableArray(result, "top_values"), acts->shape[0]) && ids->shape[1] >= 1;
}

SaeFeaturesView::SaeFeaturesView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  acts_ = usableArray(*result_, "feature_acts");
  topIds_ = usableArray(*result_, "top_features");
  topValues_ = usableArray(*result_, "top_values");
  positions_ = static_cast<int>(acts_->shape[0]);
  latents_ = acts_->shape[1];
  ranks_ = static_cast<int>(topIds_->shape[1]);
  error_ = usableArray(*result_, "reconstruction_error");
  if (error_ && error_->shape != std::vector<int64_t>{positions_}) error_ = nullptr;
  const Array* ids = usableArray(*result_, "feature_ids");
  if (ids && ids->shape.size() == 1)
    for (float v : ids->data)
      if (v >= 0 && v < float(latents_)) detailIds_.push_back(static_cast<int64_t>(v));
  const int64_t F = static_cast<int64_t>(detailIds_.size());
  if (ids && F == ids->numel()) {  // per-feature arrays only with every id valid
    logitTokens_ = usableArray(*result_, "feature_logit_tokens");
    logitValues_ = usableArray(*result_, "feature_logit_values");
    if (!sameShape2(logitTokens_, logitValues_, F)) logitTokens_ = logitValues_ = nullptr;
    exampleActs_ = usableArray(*result_, "example_acts");
    exampleIndex_ = usableArray(*result_, "example_index");
    examplePosition_ = usableArray(*result_, "example_position");
    if (!sameShape2(exampleActs_, exampleIndex_, F) || !sameShape2(exampleActs_, examplePosition_, F))
      exampleActs_ = exampleIndex_ = examplePosition_ = nullptr;
  }
  nlohmann::json inputTokens;
  if (auto in = result_->meta.find("inputs"); in != result_->meta.end() && in->is_object())
    inputTokens = in->value("tokens", nlohmann::json());
  if (!acts_->axes.empty()) positionLabels_ = axisLabels(acts_->axes[0], positions_, inputTokens);
  for (float v : acts_->data)
    if (std::isfinite(v)) maxActivation_ = std::max(maxActivation_, v);
  feature_ = detailIds_.empty() ? static_cast<int64_t>(topIds_->at({positions_ - 1, 0}))
                                : detailIds_.front();
  feature_ = std::clamp<int64_t>(feature_, 0, latents_ - 1);

  auto* row = new QHBoxLayout;
  featureBox_ = new QComboBox(this);
  for (int64_t f : detailIds_) {
    float peak = 0;
    for (int p = 0; p < positions_; ++p) peak = std::max(peak, activation(p, f));
    featureBox_->addItem(tr("#%1 (peak %2)").arg(f).arg(formatValue(peak, 3)));
  }
  featureBox_->setToolTip(tr("The detail features, strongest first; click any chip for others"));
  auto* label = new QLabel(tr("Feature"), this);
  label->setVisible(!detailIds_.empty());
  featureBox_->setVisible(!detailIds_.empty());
  scaleEditor_ = new ColorScaleEditor(this);
  row->addWidget(label);
  row->addWidget(featureBox_);
  row->addWidget(new QLabel(tr("Click a feature chip or a heatmap cell for its detail."), this));
  row->addStretch(1);
  row->addWidget(scaleEditor_);
  controlsLayout()->addLayout(row);
  detail_ = addDetailLabel();

  connect(featureBox_, &QComboBox::activated, this, [this](int i) {
    if (i >= 0 && i < int(detailIds_.size())) selectFeature(detailIds_[i]);
  });
  connect(scaleEditor_, &ColorScaleEditor::scaleChanged, this, [this](const ColorScale& s) {
    scale_ = s;
    userChanged();
  });
  rebuildHeatmap();
  syncControls();
  detail_->setText(detailText());
}

float SaeFeaturesView::activation(int position, int64_t latent) const {
  if (position < 0 || position >= positions_ || latent < 0 || latent >= latents_) return 0;
  return acts_->data[size_t(int64_t(position) * latents_ + latent)];
}

int SaeFeaturesView::detailIndex(int64_t latent) const {
  const auto it = std::find(detailIds_.begin(), detailIds_.end(), latent);
  return it == detailIds_.end() ? -1 : static_cast<int>(it - detailIds_.begin());
}

std::vector<int64_t> SaeFeaturesView::heatmapLatents() const {
  std::vector<int64_t> out;
  auto add = [&](int64_t f) {
    if (int(out.size()) < kHeatmapRows && std::find(out.begin(), out.end(), f) == out.end())
      out.push_back(f);
  };
  for (int64_t f : detailIds_) add(f);
  for (int p = 0; p < positions_ && detailIds_.empty(); ++p)  // no detail: each position's top-1
    if (topValues_->at({p, 0}) > 0) add(static_cast<int64_t>(topIds_->at({p, 0})));
  if (std::find(out.begin(), out.end(), feature_) == out.end()) {
    if (int(out.size()) == kHeatmapRows) out.pop_back();
    out.push_back(feature_);
  }
  return out;
}

void SaeFeaturesView::rebuildHeatmap() {
  heatLatents_ = heatmapLatents();
  heat_.clear();
  for (int64_t f : heatLatents_)
    for (int p = 0; p < positions_; ++p) heat_.push_back(activation(p, f));
}

ColorScale SaeFeaturesView::resolvedScale() const { return scale_.resolved(0, maxActivation_); }

QStringList SaeFeaturesView::chipTexts(int position) const {
  QStringList out;
  if (position < 0 || position >= positions_) return out;
  for (int r = 0; r < ranks_; ++r) {
    const float v = topValues_->at({position, r});
    if (!(v > 0)) continue;
    out << QStringLiteral("#%1 %2").arg(static_cast<int64_t>(topIds_->at({position, r})))
               .arg(formatValue(v, 3));
  }
  return out;
}

QStringList SaeFeaturesView::decoderTokens() const {
  QStringList out;
  const int i = detailIndex(feature_);
  if (i < 0 || !logitTokens_) return out;
  const int64_t R = logitTokens_->shape[1];
  for (int64_t r = 0; r < R; ++r)
    out << QStringLiteral("“%1” %2")
               .arg(tokenText(*result_, logitTokens_->data[size_t(i * R + r)]))
               .arg(formatValue(logitValues_->data[size_t(i * R + r)], 3));
  return out;
}

namespace {

/// An example's tokens around its peak: up to `before` tokens before it and `after` after it.
void snippet(const nlohmann::json& tokens, int64_t peak, int64_t before, int64_t after,
             QString& head, QString& mid, QString& tail) {
  if (!tokens.is_array() || peak < 0 || peak >= int64_t(tokens.size())) return;
  auto text = [&](int64_t i) {
    const auto& t = tokens[size_t(i)];
    return t.is_string() ? QString::fromStdString(t.get<std::string>()) : QString();
  };
  // Word-level vocabularies have labels without their spaces: join those with spaces.
  bool spaced = false;
  for (int64_t i = 0; i < int64_t(tokens.size()) && !spaced; ++i)
    spaced = !text(i).isEmpty() && text(i).front().isSpace();
  const QString sep = spaced ? QString() : QStringLiteral(" ");
  const int64_t b = std::max<int64_t>(0, peak - before);
  const int64_t e = std::min<int64_t>(int64_t(tokens.size()), peak + 1 + after);
  if (b > 0) head = QStringLiteral("…");
  for (int64_t i = b; i < peak; ++i) head += text(i) + sep;
  mid = text(peak);
  for (int64_t i = peak + 1; i < e; ++i) tail += sep + text(i);
  if (e < int64_t(tokens.size())) tail += QStringLiteral("…");
}

}  // namespace

std::vector<SaeFeaturesView::ExampleLine> SaeFeaturesView::examples() const {
  std::vector<ExampleLine> out;
  const int i = detailIndex(feature_);
  if (i < 0 || !exampleActs_) return out;
  const auto ex = result_->meta.find("example_tokens");
  if (ex == result_->meta.end() || !ex->is_array()) return out;
  const int64_t M = exampleActs_->shape[1];
  for (int64_t m = 0; m < M; ++m) {
    const size_t cell = size_t(i * M + m);
    const int64_t e = static_cast<int64_t>(exampleIndex_->data[cell]);
    if (e < 0 || e >= int64_t(ex->size())) continue;
    ExampleLine line;
    line.value = exampleActs_->data[cell];
    snippet((*ex)[size_t(e)], static_cast<int64_t>(examplePosition_->data[cell]), 10, 4,
            line.before, line.peak, line.after);
    out.push_back(line);
  }
  return out;
}

QStringList SaeFeaturesView::exampleLines() const {
  QStringList out;
  for (const ExampleLine& e : examples())
    out << QStringLiteral("%1: %2[%3]%4").arg(formatValue(e.value, 3), e.before, e.peak, e.after);
  return out;
}

QString SaeFeaturesView::detailText() const {
  int peakAt = 0;
  for (int p = 1; p < positions_; ++p)
    if (activation(p, feature_) > activation(peakAt, feature_)) peakAt = p;
  QStringList lines{tr("Feature #%1: peak %2 at position %3 “%4”")
                        .arg(feature_)
                        .arg(exactValue(activation(peakAt, feature_)))
                        .arg(peakAt)
                        .arg(labelOrIndex(positionLabels_, peakAt))};
  if (position_ >= 0) {
    QString line = tr("Position %1 “%2”: activation %3")
                       .arg(position_)
                       .arg(labelOrIndex(positionLabels_, position_))
                       .arg(exactValue(activation(position_, feature_)));
    if (error_) line += tr(", reconstruction error %1").arg(exactValue(error_->data[position_]));
    const QStringList chips = chipTexts(position_);
    if (!chips.isEmpty()) line += tr("; top features %1").arg(chips.join(QStringLiteral(", ")));
    lines << line;
  }
  if (detailIndex(feature_) < 0) {
    lines << tr("Not among the detail features: no decoder tokens or examples (raise "
                "detail_features).");
  } else {
    const QStringList tokens = decoderTokens();
    if (!tokens.isEmpty()) lines << tr("Decoder → tokens: %1").arg(tokens.join(QStringLiteral(", ")));
    const QStringList top = exampleLines();
    if (!top.isEmpty()) lines << tr("Top examples: %1").arg(top.join(QStringLiteral(" · ")));
  }
  return lines.join(QLatin1Char('\n'));
}

void SaeFeaturesView::selectFeature(int64_t latent) {
  feature_ = std::clamp<int64_t>(latent, 0, latents_ - 1);
  rebuildHeatmap();
  userChanged();
}

void SaeFeaturesView::syncControls() {
  {
    const QSignalBlocker block(featureBox_);
    featureBox_->setCurrentIndex(detailIndex(feature_));
  }
  scaleEditor_->setScale(scale_);
  scaleEditor_->showResolved(resolvedScale());
}

void SaeFeaturesView::userChanged() {
  syncControls();
  detail_->setText(detailText());
  updateFigure();
  emit stateChanged();
}

nlohmann::json SaeFeaturesView::state() const {
  return {{"feature", feature_}, {"position", position_}, {"scale", scale_.toJson()}, {"zoom", zoom()}};
}

void SaeFeaturesView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("feature"); it != j.end() && it->is_number_integer())
    feature_ = std::clamp<int64_t>(it->get<int64_t>(), 0, latents_ - 1);
  if (auto it = j.find("position"); it != j.end() && it->is_number_integer())
    position_ = std::clamp(it->get<int>(), -1, positions_ - 1);
  scale_ = ColorScale::fromJson(j.value("scale", nlohmann::json()), scale_);
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  rebuildHeatmap();
  syncControls();
  detail_->setText(detailText());
  updateFigure();
}

bool SaeFeaturesView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
