// PatchingView: data, controls, state and the detail panel. The figure is in patching_figure.cpp.
#include "views/patching_view.h"

#include <QCheckBox>
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

bool isPatchingProbe(const std::string& probe) {
  return probe == "activation_patching" || probe == "attribution_patching" ||
         probe == "path_patching";
}

std::string axisName(const Array& a, size_t d) {
  return d < a.axes.size() ? a.axes[d].name : std::string();
}

// An axis' labels, or "L3"/"H3"-style names for layer and head axes, or indices.
QStringList labelsOf(const Array& a, size_t d) {
  QStringList labels = d < a.axes.size() ? axisLabels(a.axes[d], a.shape[d]) : QStringList();
  if (!labels.isEmpty()) return labels;
  const std::string name = axisName(a, d);
  const QString prefix = name == "layer" ? "L" : name == "head" ? "H" : "";
  for (int64_t i = 0; i < a.shape[d]; ++i) labels << prefix + QString::number(i);
  return labels;
}

}  // namespace

bool PatchingView::canShow(const Result& result) {
  if (!isPatchingProbe(result.probe)) return false;
  const Array* e = usableArray(result, "effect");
  return e && (e->shape.size() == 2 || e->shape.size() == 3);
}

PatchingView::PatchingView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  effect_ = usableArray(*result_, "effect");
  shape_ = effect_->shape;
  const Array* act = usableArray(*result_, "activation_effect");
  activationArray_ = act && act->shape == shape_ ? act : nullptr;
  for (size_t d = 0; d < shape_.size(); ++d) labels_.push_back(labelsOf(*effect_, d));
  if (shape_.size() == 3 && axisName(*effect_, 2) == "head") {
    kind_ = Kind::Heads;
    layerAxis_ = 0;
    headAxis_ = 2;
    slice_ = -1;
  } else if (shape_.size() == 3) {
    kind_ = Kind::Leading;
    layerAxis_ = axisName(*effect_, 1) == "layer" ? 1 : -1;
  } else {
    layerAxis_ = axisName(*effect_, 0) == "layer" ? 0 : -1;
    headAxis_ = axisName(*effect_, 1) == "head" ? 1 : -1;
  }
  if (auto r = metaNumber(*result_, "correlation"))
    correlation_ = *r;
  else if (activationArray_)
    correlation_ = pearson(effect_->data.data(), activationArray_->data.data(), effect_->numel());
  else
    correlation_ = std::nan("");

  // White where patching changes nothing: the corrupted run's metric for a patched metric.
  scale_.kind = ColorScale::Kind::Diverging;
  const bool difference =
      result_->probe == "attribution_patching" || metaString(*result_, "metric") == "normalized";
  if (!difference) scale_.center = metaNumber(*result_, "corrupted_metric").value_or(0.0);
  if (kind_ == Kind::Plain && axisName(*effect_, 1) == "latent") {
    // Thousands of latents, few of which matter: show those that moved the metric.
    const double base = difference ? 0.0 : scale_.center;
    std::vector<std::pair<double, int>> moved;
    for (int b = 0; b < shape_[1]; ++b) {
      double most = 0;
      for (int a = 0; a < shape_[0]; ++a)
        most = std::max(most, std::abs(double(effect_->data[a * shape_[1] + b]) - base));
      if (most > 1e-6) moved.push_back({most, b});
    }
    std::stable_sort(moved.begin(), moved.end(),
                     [](const auto& x, const auto& y) { return x.first > y.first; });
    if (moved.size() > kMaxLatentColumns) moved.resize(kMaxLatentColumns);
    for (const auto& m : moved) latentColumns_.push_back(m.second);
  }
  buildControls();
  rebuild();
  syncControls();
  showDetail();
}

void PatchingView::buildControls() {
  auto* row = new QHBoxLayout;
  sliceLabel_ = new QLabel(kind_ == Kind::Heads ? tr("Head") : tr("Component"), this);
  sliceBox_ = new QComboBox(this);
  if (kind_ == Kind::Heads) sliceBox_->addItem(tr("All heads"));
  if (kind_ != Kind::Plain) sliceBox_->addItems(labels_[kind_ == Kind::Heads ? 2 : 0]);
  sliceLabel_->setVisible(kind_ != Kind::Plain);
  sliceBox_->setVisible(kind_ != Kind::Plain);
  compareBox_ = new QCheckBox(tr("Compare with activation patching"), this);
  compareBox_->setVisible(activationArray_ != nullptr);
  scaleEditor_ = new ColorScaleEditor(this);
  row->addWidget(sliceLabel_);
  row->addWidget(sliceBox_);
  row->addWidget(compareBox_);
  row->addStretch(1);
  row->addWidget(scaleEditor_);
  controlsLayout()->addLayout(row);

  detail_ = addDetailLabel();

  connect(sliceBox_, &QComboBox::activated, this, [this](int i) {
    slice_ = kind_ == Kind::Heads ? i - 1 : i;
    rebuild();
    userChanged();
  });
  connect(compareBox_, &QCheckBox::toggled, this, [this](bool on) {
    compare_ = on;
    userChanged();
  });
  connect(scaleEditor_, &ColorScaleEditor::scaleChanged, this, [this](const ColorScale& s) {
    scale_ = s;
    userChanged();
  });
}

void PatchingView::rebuild() {
  rows_.clear();
  cols_.clear();
  colLabels_.clear();
  const auto& L = labels_;
  if (kind_ == Kind::Plain) {
    for (int a = 0; a < shape_[0]; ++a)
      if (layerAxis_ != 0 || selected(layers_, a))
        rows_.push_back({a * shape_[1], layerAxis_ == 0 ? a : -1, L[0][a]});
    if (!latentColumns_.empty()) {
      for (int b : latentColumns_) {
        cols_.push_back(b);
        colLabels_ << L[1][b];
      }
    } else {
      for (int b = 0; b < shape_[1]; ++b)
        if (headAxis_ != 1 || selected(heads_, b)) {
          cols_.push_back(b);
          colLabels_ << L[1][b];
        }
    }
    rowTitle_ = axisTitle(0);
    colTitle_ = axisTitle(1);
    if (!latentColumns_.empty())
      colTitle_ = tr("latent (the %1 whose patch moved the metric most)").arg(cols_.size());
  } else if (kind_ == Kind::Leading) {
    const int64_t n = shape_[1], p = shape_[2];
    for (int l = 0; l < n; ++l)
      if (layerAxis_ != 1 || selected(layers_, l))
        rows_.push_back({(slice_ * n + l) * p, layerAxis_ == 1 ? l : -1, L[1][l]});
    for (int c = 0; c < p; ++c) {
      cols_.push_back(c);
      colLabels_ << L[2][c];
    }
    rowTitle_ = axisTitle(1);
    colTitle_ = axisTitle(2);
  } else {  // [layer, position, head]: one head, or every (layer, head) as a row
    const int64_t p = shape_[1], h = shape_[2];
    for (int l = 0; l < shape_[0]; ++l) {
      if (!selected(layers_, l)) continue;
      if (slice_ >= 0) {
        rows_.push_back({l * p * h + slice_, l, L[0][l]});
        continue;
      }
      for (int k = 0; k < h; ++k)
        if (selected(heads_, k)) rows_.push_back({l * p * h + k, l, L[0][l] + L[2][k]});
    }
    for (int c = 0; c < p; ++c) {
      cols_.push_back(c * h);
      colLabels_ << L[1][c];
    }
    rowTitle_ = slice_ >= 0 ? axisTitle(0) : axisTitle(0) + QStringLiteral(" / ") + axisTitle(2);
    colTitle_ = axisTitle(1);
  }
  cells_.resize(rows_.size() * cols_.size());
  activation_.clear();
  if (activationArray_) activation_.resize(cells_.size());
  for (size_t r = 0, i = 0; r < rows_.size(); ++r)
    for (size_t c = 0; c < cols_.size(); ++c, ++i) {
      cells_[i] = effect_->data[rows_[r].base + cols_[c]];
      if (activationArray_) activation_[i] = activationArray_->data[rows_[r].base + cols_[c]];
    }
}

int64_t PatchingView::flatIndex(int row, int col) const {
  if (row < 0 || col < 0 || row >= rows() || col >= cols()) return -1;
  return rows_[row].base + cols_[col];
}

QString PatchingView::axisTitle(int d) const {
  return QString::fromStdString(axisName(*effect_, d));
}

QString PatchingView::valueTitle() const {
  const QString metric = QString::fromStdString(metaString(*result_, "metric", "effect"));
  return result_->probe == "attribution_patching" ? QStringLiteral("Δ ") + metric : metric;
}

void PatchingView::syncControls() {
  const QSignalBlocker b1(sliceBox_), b2(compareBox_);
  sliceBox_->setCurrentIndex(kind_ == Kind::Heads ? slice_ + 1 : slice_);
  compareBox_->setChecked(compare_);
  scaleEditor_->setScale(scale_);
  scaleEditor_->showResolved(resolvedScale());
}

void PatchingView::userChanged() {
  syncControls();
  showDetail();
  updateFigure();
  emit stateChanged();
}

nlohmann::json PatchingView::state() const {
  return {{"slice", slice_},
          {"layers", layers_},
          {"heads", heads_},
          {"compare", compare_},
          {"cell", cell_ >= 0 ? nlohmann::json(unravelIndex(shape_, cell_)) : nlohmann::json()},
          {"scale", scale_.toJson()},
          {"zoom", zoom()}};
}

void PatchingView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("slice"); it != j.end() && it->is_number_integer() && kind_ != Kind::Plain)
    slice_ = std::clamp(it->get<int>(), kind_ == Kind::Heads ? -1 : 0,
                        static_cast<int>(shape_[kind_ == Kind::Heads ? 2 : 0]) - 1);
  if (layerAxis_ >= 0)
    if (auto l = readIndexList(j.value("layers", nlohmann::json()), int(shape_[layerAxis_])))
      layers_ = *l;
  if (headAxis_ >= 0)
    if (auto h = readIndexList(j.value("heads", nlohmann::json()), int(shape_[headAxis_])))
      heads_ = *h;
  if (auto it = j.find("compare"); it != j.end() && it->is_boolean()) compare_ = it->get<bool>();
  if (auto it = j.find("cell"); it != j.end()) {
    if (it->is_null()) cell_ = -1;
    if (it->is_array() &&
        std::all_of(it->begin(), it->end(), [](const auto& v) { return v.is_number_integer(); }))
      cell_ = ravelIndex(shape_, it->get<std::vector<int64_t>>());
  }
  scale_ = ColorScale::fromJson(j.value("scale", nlohmann::json()), scale_);
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  rebuild();
  syncControls();
  showDetail();
  updateFigure();
}

std::vector<int> PatchingView::figureLayers() const {
  std::vector<int> out;
  for (const Row& r : rows_)
    if (r.layer >= 0 && (out.empty() || out.back() != r.layer)) out.push_back(r.layer);
  return out;
}

QString PatchingView::cellDescription(int64_t flat) const {
  if (flat < 0 || flat >= effect_->numel()) return {};
  const std::vector<int64_t> index = unravelIndex(shape_, flat);
  QStringList where;
  for (size_t d = 0; d < index.size(); ++d) {
    const QString name = axisTitle(int(d));
    const QString label = labels_[d][int(index[d])];
    where << (name == QLatin1String("position")
                  ? tr("position %1 “%2”").arg(index[d]).arg(label)
                  : QStringLiteral("%1 %2").arg(name.isEmpty() ? tr("index") : name, label));
  }
  QStringList lines{where.join(QStringLiteral(", "))};
  lines << QStringLiteral("%1 = %2").arg(valueTitle(), exactValue(effect_->data[flat]));
  if (activationArray_)
    lines << tr("activation patching = %1").arg(exactValue(activationArray_->data[flat]));
  const auto top = topTokens(*result_, flat);
  if (!top.empty()) lines << tr("Top tokens of the patched run:") << topTokenLines(top);
  return lines.join(QLatin1Char('\n'));
}

QString PatchingView::detailText() const { return cellDescription(cell_); }

void PatchingView::showDetail() {
  const QString text = compactDetail(detailText());
  detail_->setText(text.isEmpty() ? tr("Click a cell for its exact value and the patched run's "
                                       "top tokens.")
                                  : text);
}

void PatchingView::canvasClicked(const QPoint& pos) {
  const Hit hit = hitTest(canvas()->rect(), pos);
  if (hit.row < 0) return;
  cell_ = flatIndex(hit.row, hit.col);
  userChanged();
}

bool PatchingView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
