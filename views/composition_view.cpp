// CompositionView: the matrix for a mode, the threshold, the strongest pairs, controls and state.
// The figure is in composition_figure.cpp.
#include "views/composition_view.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/colormap.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr int kSliderSteps = 1000;
constexpr int kPanelPairs = 10;

const Array* modeArray(const Result& r, const std::string& mode) {
  const Array* a = usableArray(r, mode);
  return a && a->shape.size() == 4 && a->shape[0] == a->shape[2] && a->shape[1] == a->shape[3]
             ? a
             : nullptr;
}

}  // namespace

bool CompositionView::canShow(const Result& result) {
  if (result.probe != "composition") return false;
  for (const char* m : {"q", "k", "v"})
    if (modeArray(result, m)) return true;
  return false;
}

CompositionView::CompositionView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  for (const char* m : {"q", "k", "v"})
    if (modeArray(*result_, m)) modes_.push_back(m);
  const Array& a = *modeArray(*result_, modes_.front());
  layers_ = static_cast<int>(a.shape[0]);
  heads_ = static_cast<int>(a.shape[1]);
  // Senders can only be read by later layers: no last-layer senders, no first-layer receivers.
  firstColLayer_ = layers_ > 1 ? 1 : 0;
  for (int l = 0; l < layers_; ++l)
    for (int h = 0; h < heads_; ++h) {
      const QString name = QStringLiteral("L%1H%2").arg(l).arg(h);
      if (layers_ == 1 || l < layers_ - 1) rowLabels_ << name;
      if (l >= firstColLayer_) colLabels_ << name;
    }

  auto* row = new QHBoxLayout;
  modeBox_ = new QComboBox(this);
  for (const auto& m : modes_)
    modeBox_->addItem(QString::fromStdString(m).toUpper() + tr("-composition"));
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setRange(0, kSliderSteps);
  slider_->setToolTip(tr("Cells below the threshold are faded and left out of the list"));
  spin_ = new QDoubleSpinBox(this);
  spin_->setDecimals(4);
  spin_->setSingleStep(0.01);
  row->addWidget(new QLabel(tr("Mode"), this));
  row->addWidget(modeBox_);
  row->addWidget(new QLabel(tr("Threshold"), this));
  row->addWidget(slider_, 1);
  row->addWidget(spin_);
  controlsLayout()->addLayout(row);

  pairsLabel_ = addDetailLabel();

  connect(modeBox_, &QComboBox::activated, this, [this](int i) {
    setMode(modes_.at(i));
    threshold_ = defaultThreshold(mode_);
    userChanged();
  });
  connect(slider_, &QSlider::valueChanged, this, [this](int v) {
    threshold_ = max_ * v / kSliderSteps;
    userChanged();
  });
  connect(spin_, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    threshold_ = v;
    userChanged();
  });
  setMode(modes_.front());
  threshold_ = defaultThreshold(mode_);
  syncControls();
}

std::optional<double> CompositionView::baseline() const {
  auto it = result_->meta.find("baseline");
  if (it == result_->meta.end() || !it->is_object()) return std::nullopt;
  auto b = it->find(mode_);
  if (b == it->end() || !b->is_number() || !std::isfinite(b->get<double>())) return std::nullopt;
  return b->get<double>();
}

double CompositionView::defaultThreshold(const std::string& mode) const {
  auto it = result_->meta.find("baseline");
  if (it != result_->meta.end() && it->is_object())
    if (auto b = it->find(mode); b != it->end() && b->is_number()) return 2 * b->get<double>();
  return 0;
}

void CompositionView::setMode(const std::string& mode) {
  if (std::find(modes_.begin(), modes_.end(), mode) == modes_.end()) return;
  mode_ = mode;
  rebuild();
}

void CompositionView::rebuild() {
  const Array& a = *modeArray(*result_, mode_);
  const int R = rows(), C = cols(), N = layers_ * heads_;
  cells_.assign(size_t(R) * C, NAN);
  max_ = 0;
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      const int s = r, t = firstColLayer_ * heads_ + c;  // flat sender / receiver head
      if (s / heads_ >= t / heads_ && layers_ > 1) continue;
      const float v = a.data[int64_t(s) * N + t];
      cells_[size_t(r) * C + c] = v;
      if (std::isfinite(v)) max_ = std::max(max_, v);
    }
  if (max_ <= 0) max_ = 1;
}

float CompositionView::cellValue(int row, int col) const {
  if (row < 0 || col < 0 || row >= rows() || col >= cols()) return NAN;
  return cells_[size_t(row) * cols() + col];
}

bool CompositionView::faded(int row, int col) const {
  const float v = cellValue(row, col);
  return !std::isfinite(v) || v < threshold_;
}

std::vector<CompositionView::Pair> CompositionView::strongestPairs(int count) const {
  std::vector<Pair> out;
  for (int r = 0; r < rows(); ++r)
    for (int c = 0; c < cols(); ++c)
      if (!faded(r, c)) out.push_back({rowLabels_[r], colLabels_[c], cellValue(r, c), r, c});
  std::stable_sort(out.begin(), out.end(),
                   [](const Pair& a, const Pair& b) { return a.value > b.value; });
  if (int(out.size()) > count) out.resize(std::max(0, count));
  return out;
}

void CompositionView::syncControls() {
  const QSignalBlocker b1(modeBox_), b2(slider_), b3(spin_);
  modeBox_->setCurrentIndex(
      int(std::find(modes_.begin(), modes_.end(), mode_) - modes_.begin()));
  spin_->setRange(0, std::max<double>(max_, threshold_));
  spin_->setValue(threshold_);
  slider_->setValue(int(std::lround(std::clamp(threshold_ / max_, 0.0, 1.0) * kSliderSteps)));
  const std::vector<Pair> pairs = strongestPairs();
  QStringList lines;
  for (int i = 0; i < std::min<int>(kPanelPairs, pairs.size()); ++i)
    lines << QStringLiteral("%1 → %2  %3")
                 .arg(pairs[i].sender, pairs[i].receiver, formatValue(pairs[i].value, 3));
  pairsLabel_->setText(
      pairs.empty() ? tr("No pairs at or above the threshold %1.").arg(formatValue(threshold_, 3))
                    : tr("%1 pairs ≥ %2, strongest: %3")
                          .arg(pairs.size())
                          .arg(formatValue(threshold_, 3), lines.join(QStringLiteral(";   "))));
}

void CompositionView::userChanged() {
  syncControls();
  updateFigure();
  emit stateChanged();
}

nlohmann::json CompositionView::state() const {
  return {{"mode", mode_}, {"threshold", threshold_}, {"zoom", zoom()}};
}

void CompositionView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("mode"); it != j.end() && it->is_string() && it->get<std::string>() != mode_) {
    setMode(it->get<std::string>());
    threshold_ = defaultThreshold(mode_);
  }
  if (auto it = j.find("threshold"); it != j.end() && it->is_number() &&
                                     std::isfinite(it->get<double>()))
    threshold_ = std::max(0.0, it->get<double>());
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  syncControls();
  updateFigure();
}

bool CompositionView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
