#pragma once
// ResultView: the interface of every widget that draws a Result. A view has a JSON state (what
// the session saves: layer, head, colour scale, ...) and paints its figure into any QPainter —
// the canvas on screen, or a QImage / QSvgGenerator / QPdfWriter when exporting.
#include <QWidget>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/session/result.h"

class QComboBox;
class QHBoxLayout;
class QLabel;
class QPainter;
class QScrollArea;
class QVBoxLayout;
class QWheelEvent;

namespace mechscope {

class FigureCanvas;

class ResultView : public QWidget {
  Q_OBJECT

 public:
  ResultView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  ~ResultView() override;

  const Result& result() const { return *result_; }

  /// The view's state as JSON; setState(state()) changes nothing.
  virtual nlohmann::json state() const = 0;
  /// Applies a saved state; unknown keys are ignored, missing ones keep their value, out-of-range
  /// values are clamped. Does not emit stateChanged().
  virtual void setState(const nlohmann::json& state) = 0;
  /// Paints the figure (what export renders) into `rect`; the background is already filled.
  virtual void paintFigure(QPainter& painter, const QRect& rect) const = 0;
  virtual QString figureTitle() const = 0;
  /// The figure's natural height at `width` (export uses it; default 3:4).
  virtual int figureHeightForWidth(int width) const;
  /// Tooltip text for a point of the canvas (empty for none).
  virtual QString toolTipAt(const QPoint& canvasPos) const;
  /// The layers the figure draws (rows or panels of a layer axis), in order; empty when the view
  /// has no layer axis. Export with "per layer" draws one figure per entry, each after
  /// setState({"layers": [k]}).
  virtual std::vector<int> figureLayers() const;

  /// The widget the figure is painted on (inside a scroll area when zoomed).
  QWidget* canvas() const;
  /// Canvas size relative to the visible area: 1 fits the figure to the view.
  double zoom() const { return zoom_; }
  /// Sets the zoom (clamped to [1, 16]), keeping the canvas point under `anchor` (viewport
  /// coordinates) in place; the centre when `anchor` is null.
  void setZoom(double zoom, const QPoint& anchor = QPoint(-1, -1));

 signals:
  /// Emitted after every change the user makes (not after setState()).
  void stateChanged();

 protected:
  /// Rows of controls go here, above the canvas.
  QVBoxLayout* controlsLayout() const { return controls_; }
  /// Adds to `row` an "Array" chooser listing `names` (shown only when there is a choice); its
  /// user choices call `chosen` with the name.
  QComboBox* addArrayChooser(QHBoxLayout* row, const std::vector<std::string>& names,
                             std::function<void(const std::string&)> chosen);
  /// Adds `widget` under the figure (a detail panel).
  void addBelowFigure(QWidget* widget);
  /// A selectable, word-wrapped text label below the figure (clicked-cell details, lists).
  QLabel* addDetailLabel();
  /// A click (press and release without dragging) on the canvas.
  virtual void canvasClicked(const QPoint& canvasPos);
  /// Wheel events on the canvas; return true when consumed (e.g. zoom).
  virtual bool canvasWheel(QWheelEvent* event);
  void updateFigure();
  /// Zoom changes the user made: emits stateChanged().
  void zoomByUser(double zoom, const QPoint& anchor);

  std::shared_ptr<const Result> result_;

 private:
  friend class FigureCanvas;
  bool eventFilter(QObject* watched, QEvent* event) override;
  void applyZoom(const QPoint& anchor);

  QVBoxLayout* controls_ = nullptr;
  QScrollArea* scroll_ = nullptr;
  FigureCanvas* canvas_ = nullptr;
  double zoom_ = 1.0;
};

/// The view for a result: AttentionView for probe "attention" with a "pattern" array;
/// PatchingView for activation/attribution/path patching, DlaView for logit_attribution,
/// LogitLensView for logit_lens, NeuronTableView for neuron_decoding, HeadSvdView for head_svd,
/// CompositionView for composition, ChannelsView for channels, ClampView for neuron_clamp,
/// HeadScoresView for head_detector and retrieval_heads, HeadMaskingView for head_masking,
/// KnockoutView for attention_knockout and information_flow, SaeCircuitView for sae_circuit;
/// otherwise a HeatmapView when the first array has two or more dimensions (flattened to rows ×
/// last axis), a bar chart for a 1-d array, and a summary of metadata and scalars otherwise.
/// Never null.
ResultView* create_result_view(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
ResultView* create_result_view(const Result& result, QWidget* parent = nullptr);

}  // namespace mechscope
