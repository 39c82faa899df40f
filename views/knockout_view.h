#pragma once
// KnockoutView: attention knockout (probe "attention_knockout": `relative_change` [layer],
// `p_blocked` [layer], optional `example_change` [example, layer]) and cross-modal information
// flow (probe "information_flow": `relative_change` [flow, layer], `patch_relevance`
// [layer, patch], optional `image` [y, x, channel]). The figure: the relative change of the
// answer's probability, in %, per layer (each layer the centre of a window of meta["window"]
// blocked layers), one line per flow (single examples as faint lines), the selected layer's
// window shaded; for information_flow also the image with its patch grid, the selected layer's
// patch relevance as a translucent diverging overlay with a colour bar, and the knocked-out
// regions (meta["region"] patches a side) outlined. Painting is in knockout_figure.cpp.
#include <QStringList>

#include "views/colormap.h"
#include "views/line_figure.h"
#include "views/result_view.h"

class QLabel;
class QSpinBox;

namespace mechscope {

struct FigureStyle;

class KnockoutView : public ResultView {
  Q_OBJECT

 public:
  explicit KnockoutView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "attention_knockout" with a 1-d `relative_change`, or "information_flow" with a 2-d
  /// `relative_change` [flow, layer].
  static bool canShow(const Result& result);

  /// {"layer": the selected window centre (at first, the layer of the largest drop of any flow),
  ///  "zoom"}. "layers": [k, ...] (what export per layer sets) selects layer k.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;
  /// Every layer: export per layer draws the figure with each selected.
  std::vector<int> figureLayers() const override;

  /// The layers blocked with a window of `window` layers centred on `centre`: lo = centre −
  /// (window − 1) / 2 to lo + window − 1, clipped to [0, layers − 1]; empty for window 0.
  static std::vector<int> windowLayers(int centre, int window, int layers);

  int layers() const { return layers_; }
  int layer() const { return layer_; }
  int window() const { return window_; }
  /// windowLayers(layer(), window(), layers()).
  std::vector<int> blockedLayers() const;
  /// The chart: relative change in % per layer, one primary series per flow.
  LineFigure chartFigure() const;
  /// Whether the patch panel is drawn (information_flow with `patch_relevance`).
  bool hasPatches() const { return relevance_ != nullptr; }
  int patchGrid() const { return side_; }
  int region() const { return region_; }
  /// The selected layer's relevance of patch (row, col), in %.
  double patchRelevance(int row, int col) const;
  /// What the panel under the figure shows: each series' value at the selected layer.
  QString detailText() const;
  /// Canvas rectangle of a layer's slot in the chart.
  QRect layerRect(int layer) const;
  /// Canvas rectangle of the shaded window (empty when nothing is blocked).
  QRect bandRect() const;
  /// Canvas rectangle of patch (row, col) on the image (empty without patches).
  QRect patchRect(int row, int col) const;

 protected:
  void canvasClicked(const QPoint& canvasPos) override;
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, caption, chart, panelTitle, image, colorBar;
  };
  Layout layout(const QRectF& rect) const;
  QString caption() const;
  /// "blocks L1–L3", "blocks L2", "nothing blocked": the window centred on `centre`.
  QString blockedText(int centre) const;
  ColorScale patchScale() const;
  QRectF patchRectIn(const QRectF& image, int row, int col) const;
  void paintPatches(QPainter& p, const Layout& L, const FigureStyle& style) const;
  void syncControls();
  void userChanged();

  int layers_ = 0, window_ = 0;
  QStringList layerLabels_;
  std::vector<LineSeries> series_;  // in %, primary first
  const Array* blocked_ = nullptr;  // p_blocked [layer]
  const Array* relevance_ = nullptr;
  const Array* image_ = nullptr;
  int side_ = 0, region_ = 1;
  double maxRelevance_ = 0;  // max |patch relevance| in %, over all layers

  int layer_ = 0;

  QSpinBox* layerSpin_ = nullptr;
  QLabel* windowLabel_ = nullptr;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
