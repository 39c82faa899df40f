// ClampView: data, controls and state. The figure is in clamp_figure.cpp.
#include "views/clamp_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/colormap.h"
#include "views/probe_data.h"
#include "views/token_text.h"

namespace mechscope {

bool ClampView::canShow(const Result& result) {
  const Array* p = usableArray(result, "probs");
  const Array* t = usableArray(result, "tokens");
  return result.probe == "neuron_clamp" && p && t && p->shape.size() == 2 && p->shape == t->shape;
}

ClampView::ClampView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  probs_ = usableArray(*result_, "probs");
  tokens_ = usableArray(*result_, "tokens");
  conditions_ = static_cast<int>(probs_->shape[0]);
  ranks_ = static_cast<int>(probs_->shape[1]);
  conditionNames_ = probs_->axes.empty() ? QStringList() : axisLabels(probs_->axes[0], conditions_);
  top_ = std::min(top_, ranks_);

  auto* row = new QHBoxLayout;
  topSpin_ = new QSpinBox(this);
  topSpin_->setRange(1, std::max(1, ranks_));
  topSpin_->setValue(top_);
  row->addWidget(new QLabel(tr("Top"), this));
  row->addWidget(topSpin_);
  row->addStretch(1);
  controlsLayout()->addLayout(row);
  connect(topSpin_, &QSpinBox::valueChanged, this, [this](int v) {
    top_ = v;
    updateFigure();
    emit stateChanged();
  });
}

QString ClampView::conditionName(int c) const {
  return c < conditionNames_.size() ? conditionNames_[c] : QStringLiteral("condition %1").arg(c);
}

QStringList ClampView::tokens(int c) const {
  QStringList out = tokenTexts(*result_, *tokens_, c);
  return out.mid(0, top_);
}

float ClampView::prob(int c, int r) const {
  if (c < 0 || c >= conditions_ || r < 0 || r >= ranks_) return NAN;
  return probs_->data[int64_t(c) * ranks_ + r];
}

QString ClampView::continuation(int c) const {
  auto it = result_->meta.find("continuation");
  if (it == result_->meta.end() || !it->is_object()) return {};
  auto one = it->find(conditionName(c).toStdString());
  if (one == it->end() || !one->is_object()) return {};
  if (auto t = one->find("text"); t != one->end() && t->is_string())
    return QString::fromStdString(t->get<std::string>());  // prose: spaces stay spaces
  QStringList texts;
  for (const auto& id : one->value("tokens", nlohmann::json::array()))
    if (id.is_number()) texts << tokenText(*result_, id.get<double>());
  return texts.join(QStringLiteral(" "));
}

QString ClampView::caption() const {
  auto it = result_->meta.find("answer_prob");
  if (it == result_->meta.end() || !it->is_object()) return {};
  QStringList parts;
  for (int c = 0; c < conditions_; ++c)
    if (auto v = it->find(conditionName(c).toStdString()); v != it->end() && v->is_number())
      parts << QStringLiteral("%1 %2").arg(conditionName(c), formatValue(v->get<double>(), 3));
  return parts.isEmpty() ? QString()
                         : tr("answer probability: %1").arg(parts.join(QStringLiteral(" → ")));
}

nlohmann::json ClampView::state() const { return {{"top", top_}}; }

void ClampView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("top"); it != j.end() && it->is_number_integer())
    top_ = std::clamp(it->get<int>(), 1, std::max(1, ranks_));
  const QSignalBlocker b(topSpin_);
  topSpin_->setValue(top_);
  updateFigure();
}

}  // namespace mechscope
