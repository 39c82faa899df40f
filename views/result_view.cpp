#include "views/result_view.h"

#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QVBoxLayout>
#include <algorithm>

#include "views/attention_view.h"
#include "views/bar_chart_view.h"
#include "views/channels_view.h"
#include "views/clamp_view.h"
#include "views/composition_view.h"
#include "views/dla_view.h"
#include "views/figure_canvas.h"
#include "views/head_masking_view.h"
#include "views/head_scores_view.h"
#include "views/head_svd_view.h"
#include "views/heatmap_view.h"
#include "views/knockout_view.h"
#include "views/logit_lens_view.h"
#include "views/neuron_table_view.h"
#include "views/patching_view.h"
#include "views/sae_circuit_view.h"
#include "views/sae_features_view.h"
#include "views/summary_view.h"

namespace mechscope {

ResultView::ResultView(std::shared_ptr<const Result> result, QWidget* parent)
    : QWidget(parent), result_(std::move(result)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(4);
  controls_ = new QVBoxLayout;
  controls_->setContentsMargins(6, 6, 6, 0);
  controls_->setSpacing(4);
  layout->addLayout(controls_);
  scroll_ = new QScrollArea(this);
  scroll_->setFrameShape(QFrame::NoFrame);
  scroll_->setWidgetResizable(true);
  canvas_ = new FigureCanvas(this);
  scroll_->setWidget(canvas_);
  scroll_->viewport()->installEventFilter(this);
  layout->addWidget(scroll_, 1);
}

ResultView::~ResultView() = default;

int ResultView::figureHeightForWidth(int width) const { return width * 3 / 4; }

QString ResultView::toolTipAt(const QPoint&) const { return {}; }

std::vector<int> ResultView::figureLayers() const { return {}; }

void ResultView::addBelowFigure(QWidget* widget) { layout()->addWidget(widget); }

QLabel* ResultView::addDetailLabel() {
  auto* label = new QLabel(this);
  label->setWordWrap(true);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  label->setContentsMargins(8, 2, 8, 6);
  addBelowFigure(label);
  return label;
}

QWidget* ResultView::canvas() const { return canvas_; }

void ResultView::canvasClicked(const QPoint&) {}

bool ResultView::canvasWheel(QWheelEvent*) { return false; }

void ResultView::updateFigure() { canvas_->update(); }

void ResultView::setZoom(double zoom, const QPoint& anchor) {
  zoom = std::clamp(zoom, 1.0, 16.0);
  if (zoom == zoom_) return;
  zoom_ = zoom;
  applyZoom(anchor);
}

void ResultView::zoomByUser(double zoom, const QPoint& anchor) {
  const double before = zoom_;
  setZoom(zoom, anchor);
  if (zoom_ != before) emit stateChanged();
}

void ResultView::applyZoom(const QPoint& anchor) {
  QWidget* viewport = scroll_->viewport();
  if (zoom_ <= 1.0) {
    scroll_->setWidgetResizable(true);
    canvas_->update();
    return;
  }
  QScrollBar* h = scroll_->horizontalScrollBar();
  QScrollBar* v = scroll_->verticalScrollBar();
  const QPoint a = anchor.x() < 0 ? viewport->rect().center() : anchor;
  // The canvas point under the anchor, as a fraction of the canvas, stays under the anchor.
  const double fx = (a.x() + h->value()) / std::max(1.0, double(canvas_->width()));
  const double fy = (a.y() + v->value()) / std::max(1.0, double(canvas_->height()));
  scroll_->setWidgetResizable(false);
  canvas_->resize(viewport->size() * zoom_);
  h->setValue(static_cast<int>(fx * canvas_->width() - a.x()));
  v->setValue(static_cast<int>(fy * canvas_->height() - a.y()));
  canvas_->update();
}

bool ResultView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == scroll_->viewport() && event->type() == QEvent::Resize && zoom_ > 1.0)
    canvas_->resize(scroll_->viewport()->size() * zoom_);
  return QWidget::eventFilter(watched, event);
}

QComboBox* ResultView::addArrayChooser(QHBoxLayout* row, const std::vector<std::string>& names,
                                       std::function<void(const std::string&)> chosen) {
  auto* box = new QComboBox(this);
  for (const auto& name : names) box->addItem(QString::fromStdString(name));
  auto* label = new QLabel(tr("Array"), this);
  row->addWidget(label);
  row->addWidget(box);
  label->setVisible(names.size() > 1);
  box->setVisible(names.size() > 1);
  connect(box, &QComboBox::activated, this,
          [names, chosen = std::move(chosen)](int i) { chosen(names.at(i)); });
  return box;
}

ResultView* create_result_view(std::shared_ptr<const Result> result, QWidget* parent) {
  if (AttentionView::canShow(*result)) return new AttentionView(result, parent);
  if (PatchingView::canShow(*result)) return new PatchingView(result, parent);
  if (DlaView::canShow(*result)) return new DlaView(result, parent);
  if (LogitLensView::canShow(*result)) return new LogitLensView(result, parent);
  if (NeuronTableView::canShow(*result)) return new NeuronTableView(result, parent);
  if (HeadSvdView::canShow(*result)) return new HeadSvdView(result, parent);
  if (CompositionView::canShow(*result)) return new CompositionView(result, parent);
  if (ChannelsView::canShow(*result)) return new ChannelsView(result, parent);
  if (ClampView::canShow(*result)) return new ClampView(result, parent);
  if (HeadScoresView::canShow(*result)) return new HeadScoresView(result, parent);
  if (HeadMaskingView::canShow(*result)) return new HeadMaskingView(result, parent);
  if (KnockoutView::canShow(*result)) return new KnockoutView(result, parent);
  if (SaeCircuitView::canShow(*result)) return new SaeCircuitView(result, parent);
  if (SaeFeaturesView::canShow(*result)) return new SaeFeaturesView(result, parent);
  if (HeatmapView::canShow(*result)) return new HeatmapView(result, parent);
  if (BarChartView::canShow(*result)) return new BarChartView(result, parent);
  return new SummaryView(result, parent);
}

ResultView* create_result_view(const Result& result, QWidget* parent) {
  return create_result_view(std::make_shared<const Result>(result), parent);
}

}  // namespace mechscope
