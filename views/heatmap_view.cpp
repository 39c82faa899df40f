#include "views/heatmap_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QSignalBlocker>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/color_scale_editor.h"

namespace mechscope {
namespace {

bool usable(const Array& a) {
  return !a.shape.empty() && a.numel() > 0 && static_cast<int64_t>(a.data.size()) == a.numel();
}

QString axisName(const Array& a, size_t d) {
  return d < a.axes.size() ? QString::fromStdString(a.axes[d].name) : QString();
}

}  // namespace

std::string primary_array_name(const Result& result) {
  for (const auto& [name, a] : result.arrays)
    if (usable(a)) return name;
  return {};
}

bool HeatmapView::canShow(const Result& result) {
  const std::string name = primary_array_name(result);
  return !name.empty() && result.arrays.at(name).shape.size() >= 2;
}

HeatmapView::HeatmapView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  for (const auto& [name, a] : result_->arrays)
    if (usable(a) && a.shape.size() >= 2) candidates_.push_back(name);

  auto* row = new QHBoxLayout;
  arrayBox_ = addArrayChooser(row, candidates_, [this](const std::string& name) {
    selectArray(name);
    userChanged();
  });
  row->addStretch(1);
  scaleEditor_ = new ColorScaleEditor(this);
  row->addWidget(scaleEditor_);
  controlsLayout()->addLayout(row);

  connect(scaleEditor_, &ColorScaleEditor::scaleChanged, this, [this](const ColorScale& s) {
    scale_ = s;
    userChanged();
  });
  const std::string first = primary_array_name(*result_);
  if (std::find(candidates_.begin(), candidates_.end(), first) != candidates_.end())
    selectArray(first);
  else if (!candidates_.empty())
    selectArray(candidates_.front());
  syncControls();
}

void HeatmapView::selectArray(const std::string& name) {
  const Array& a = result_->array(name);
  arrayName_ = name;
  const size_t d = a.shape.size();
  // Leading axes flattened into rows: row labels join the leading axes' labels ("L0/H3").
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < d; ++i) rows *= a.shape[i];
  matrix_ = {a.data.data(), static_cast<int>(rows), static_cast<int>(a.shape[d - 1]),
             a.shape[d - 1]};
  xLabels_ = d <= a.axes.size() ? axisLabels(a.axes[d - 1], a.shape[d - 1]) : QStringList();
  xTitle_ = axisName(a, d - 1);
  yLabels_.clear();
  QStringList names;
  std::vector<QStringList> leading;
  for (size_t i = 0; i + 1 < d; ++i) {
    leading.push_back(i < a.axes.size() ? axisLabels(a.axes[i], a.shape[i]) : QStringList());
    if (!axisName(a, i).isEmpty()) names << axisName(a, i);
  }
  yTitle_ = names.join(QStringLiteral(" / "));
  if (d == 2 && leading[0].isEmpty()) {
    // plain indices: leave empty so the figure numbers them
  } else {
    for (int64_t r = 0; r < rows; ++r) {
      QStringList parts;
      int64_t rest = r;
      for (size_t i = d - 1; i-- > 0;) {
        parts.prepend(labelOrIndex(leading[i], static_cast<int>(rest % a.shape[i])));
        rest /= a.shape[i];
      }
      yLabels_ << parts.join(QLatin1Char('/'));
    }
  }
  const auto [lo, hi] = matrix_.range();
  scale_ = ColorScale();
  scale_.kind = lo < 0 ? ColorScale::Kind::Diverging : ColorScale::Kind::Sequential;
}

void HeatmapView::syncControls() {
  const QSignalBlocker block(arrayBox_);
  const auto it = std::find(candidates_.begin(), candidates_.end(), arrayName_);
  arrayBox_->setCurrentIndex(static_cast<int>(it - candidates_.begin()));
  scaleEditor_->setScale(scale_);
  const auto [lo, hi] = matrix_.range();
  scaleEditor_->showResolved(scale_.resolved(lo, hi));
}

void HeatmapView::userChanged() {
  syncControls();
  updateFigure();
  emit stateChanged();
}

nlohmann::json HeatmapView::state() const {
  return {{"array", arrayName_}, {"scale", scale_.toJson()}, {"zoom", zoom()}};
}

void HeatmapView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("array"); it != j.end() && it->is_string()) {
    const std::string name = it->get<std::string>();
    if (std::count(candidates_.begin(), candidates_.end(), name)) selectArray(name);
  }
  scale_ = ColorScale::fromJson(j.value("scale", nlohmann::json()), scale_);
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  syncControls();
  updateFigure();
}

QString HeatmapView::figureTitle() const {
  const QString base =
      QString::fromStdString(result_->title.empty() ? result_->id : result_->title);
  return candidates_.size() > 1 ? tr("%1 — %2").arg(base, QString::fromStdString(arrayName_))
                                : base;
}

HeatmapFigure HeatmapView::figure() const {
  HeatmapFigure f;
  f.title = figureTitle();
  f.xTitle = xTitle_;
  f.yTitle = yTitle_;
  f.xLabels = xLabels_;
  f.yLabels = yLabels_;
  f.matrix = matrix_;
  const auto [lo, hi] = matrix_.range();
  f.scale = scale_.resolved(lo, hi);
  f.colorBarTitle = QString::fromStdString(arrayName_);
  f.squareCells = true;
  return f;
}

void HeatmapView::paintFigure(QPainter& p, const QRect& rect) const {
  paintHeatmap(p, rect, figure(), FigureStyle::forSize(rect.width(), rect.height()));
}

int HeatmapView::figureHeightForWidth(int width) const {
  return heatmapHeightForWidth(figure(), width);
}

QString HeatmapView::toolTipAt(const QPoint& pos) const {
  const QRectF rect = canvas()->rect();
  const QPoint c =
      layoutHeatmap(figure(), rect, FigureStyle::forSize(rect.width(), rect.height())).cellAt(pos);
  if (c.x() < 0) return {};
  const QString rowName = yTitle_.isEmpty() ? tr("row") : yTitle_;
  const QString colName = xTitle_.isEmpty() ? tr("column") : xTitle_;
  return tr("%1 %2, %3 %4\n%5 %6")
      .arg(rowName, labelOrIndex(yLabels_, c.y()), colName, labelOrIndex(xLabels_, c.x()),
           QString::fromStdString(arrayName_), formatValue(matrix_.at(c.y(), c.x()), 4));
}

QRect HeatmapView::cellRect(int row, int col) const {
  if (row < 0 || col < 0 || row >= matrix_.rows || col >= matrix_.cols) return {};
  const QRectF rect = canvas()->rect();
  return layoutHeatmap(figure(), rect, FigureStyle::forSize(rect.width(), rect.height()))
      .cellRect(row, col)
      .toRect();
}

bool HeatmapView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
