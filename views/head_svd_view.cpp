// HeadSvdView: data, controls, state and the detail panel. The figure is in head_svd_figure.cpp.
#include "views/head_svd_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/probe_data.h"

namespace mechscope {
namespace {

constexpr int kDetailComponents = 8;  // component lines in the panel under the figure

bool spectrumOf(const Array* a, const Array& copying) {
  return a && a->shape.size() == 3 && a->shape[0] == copying.shape[0] &&
         a->shape[1] == copying.shape[1];
}

}  // namespace

bool HeadSvdView::canShow(const Result& result) {
  if (result.probe != "head_svd") return false;
  const Array* c = usableArray(result, "copying_score");
  return c && c->shape.size() == 2 && spectrumOf(usableArray(result, "ov_singular_values"), *c);
}

HeadSvdView::HeadSvdView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  copying_ = usableArray(*result_, "copying_score");
  ov_ = usableArray(*result_, "ov_singular_values");
  qkValues_ = usableArray(*result_, "qk_singular_values");
  if (!spectrumOf(qkValues_, *copying_)) qkValues_ = nullptr;
  layers_ = static_cast<int>(copying_->shape[0]);
  heads_ = static_cast<int>(copying_->shape[1]);
  layerLabels_ = axisLabelsOr(*copying_, 0, "L");
  headLabels_ = axisLabelsOr(*copying_, 1, "H");

  auto* row = new QHBoxLayout;
  circuitBox_ = new QComboBox(this);
  circuitBox_->addItem(tr("OV circuit"));
  if (qkValues_) circuitBox_->addItem(tr("QK circuit"));
  circuitBox_->setToolTip(tr("Which circuit's spectrum is drawn as bars (the other is the line)"));
  row->addWidget(new QLabel(tr("Spectrum"), this));
  row->addWidget(circuitBox_);
  row->addWidget(new QLabel(tr("Click a head in the grid to see its spectrum and tokens."), this));
  row->addStretch(1);
  controlsLayout()->addLayout(row);
  connect(circuitBox_, &QComboBox::activated, this, [this](int i) {
    qk_ = i == 1;
    userChanged();
  });

  detail_ = addDetailLabel();
  detail_->setText(detailText());
}

QString HeadSvdView::headName() const { return layerLabels_[layer_] + headLabels_[head_]; }

std::vector<double> HeadSvdView::spectrum(bool qk) const {
  const Array* a = qk ? qkValues_ : ov_;
  std::vector<double> out;
  if (!a) return out;
  const int64_t C = a->shape[2], base = (int64_t(layer_) * heads_ + head_) * C;
  for (int64_t c = 0; c < C; ++c) out.push_back(a->data[base + c]);
  return out;
}

QStringList HeadSvdView::componentLines() const {
  const Array* in = usableArray(*result_, "ov_in_top_token");
  const Array* out = usableArray(*result_, "ov_out_top_token");
  QStringList lines;
  if (!in || !out || in->shape.size() != 4 || in->shape != out->shape ||
      in->shape[0] != layers_ || in->shape[1] != heads_)
    return lines;
  const int64_t C = in->shape[2];
  const std::vector<double> sigma = spectrum(false);
  for (int64_t c = 0; c < C; ++c) {
    const int64_t cell = (int64_t(layer_) * heads_ + head_) * C + c;
    QString line = QStringLiteral("C%1").arg(c);
    if (c < int64_t(sigma.size())) line += QStringLiteral(" σ %1").arg(formatValue(sigma[c], 3));
    line += tr(": reads %1 → writes %2")
                .arg(tokenTexts(*result_, *in, cell).join(QStringLiteral(", ")),
                     tokenTexts(*result_, *out, cell).join(QStringLiteral(", ")));
    lines << line;
  }
  return lines;
}

QString HeadSvdView::detailText() const {
  QStringList lines{tr("%1: copying score %2")
                        .arg(headName(),
                             exactValue(copying_->data[int64_t(layer_) * heads_ + head_]))};
  const QStringList comps = componentLines();
  lines << comps.mid(0, kDetailComponents);
  if (comps.size() > kDetailComponents)
    lines << tr("… %1 more components with token lists (hover the figure)")
                 .arg(comps.size() - kDetailComponents);
  return lines.join(QLatin1Char('\n'));
}

void HeadSvdView::userChanged() {
  {
    const QSignalBlocker b(circuitBox_);
    circuitBox_->setCurrentIndex(qk_ ? 1 : 0);
  }
  detail_->setText(detailText());
  updateFigure();
  emit stateChanged();
}

nlohmann::json HeadSvdView::state() const {
  return {{"layer", layer_}, {"head", head_}, {"circuit", qk_ ? "qk" : "ov"}, {"zoom", zoom()}};
}

void HeadSvdView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("layer"); it != j.end() && it->is_number_integer())
    layer_ = std::clamp(it->get<int>(), 0, layers_ - 1);
  if (auto it = j.find("head"); it != j.end() && it->is_number_integer())
    head_ = std::clamp(it->get<int>(), 0, heads_ - 1);
  if (auto it = j.find("circuit"); it != j.end() && it->is_string())
    qk_ = it->get<std::string>() == "qk" && qkValues_;
  if (j.contains("zoom") && j["zoom"].is_number()) setZoom(j["zoom"].get<double>());
  const QSignalBlocker b(circuitBox_);
  circuitBox_->setCurrentIndex(qk_ ? 1 : 0);
  detail_->setText(detailText());
  updateFigure();
}

void HeadSvdView::canvasClicked(const QPoint& pos) {
  const QRectF rect = canvas()->rect();
  const FigureStyle style = FigureStyle::forSize(rect.width(), rect.height());
  const QPoint c = layoutHeatmap(gridFigure(), layout(rect).grid, style).cellAt(pos);
  if (c.x() < 0) return;
  layer_ = c.y();
  head_ = c.x();
  userChanged();
}

bool HeadSvdView::canvasWheel(QWheelEvent* event) {
  if (event->angleDelta().y() == 0) return false;
  zoomByUser(zoom() * std::pow(1.25, event->angleDelta().y() / 120.0),
             canvas()->mapToParent(event->position().toPoint()));
  return true;
}

}  // namespace mechscope
