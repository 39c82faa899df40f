// ChannelsView: data, controls and state. The figure is in channels_figure.cpp.
#include "views/channels_view.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QSignalBlocker>
#include <QWheelEvent>
#include <cmath>

#include "views/probe_data.h"

namespace mechscope {

bool ChannelsView::canShow(const Result& result) {
  const Array* s = usableArray(result, "component_score");
  return result.probe == "channels" && s && s->shape.size() == 1;
}

ChannelsView::ChannelsView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  score_ = usableArray(*result_, "component_score");
  singular_ = usableArray(*result_, "singular_value");
  if (singular_ && singular_->shape != score_->shape) singular_ = nullptr;
  metric_ = usableArray(*result_, "metric");
  if (metric_ && metric_->shape.size() != 1) metric_ = nullptr;

  auto* row = new QHBoxLayout;
  singularBox_ = new QCheckBox(tr("Singular values"), this);
  singularBox_->setToolTip(tr("Draw the sender OV's singular values as a line (right axis)"));
  singularBox_->setVisible(singular_ != nullptr);
  singularBox_->setChecked(showSingular_);
  row->addWidget(singularBox_);
  row->addStretch(1);
  controlsLayout()->addLayout(row);
  connect(singularBox_, &QCheckBox::toggled, this, [this](bool on) {
    showSingular_ = on;
    updateFigure();
    emit stateChanged();
  });
}

nlohmann::json ChannelsView::state() const {
  return {{"singular_values", showSingular_}, {"zoom", zoom()}};
}

void ChannelsView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("singular_values"); it != j.end() && it->is_boolean())
    showSingular_ = it->get<bool>();
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  const QSignalBlocker b(singularBox_);
  singularBox_->setChecked(showSingular_);
  updateFigure();
}

bool ChannelsView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
