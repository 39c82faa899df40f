#pragma once
// DlaView: direct logit attribution (probe "logit_attribution") — each component's contribution
// to the logit difference. Arrays: `heads` [layer, head], `mlp` [layer], `other` [term] (embed,
// pos_embed, biases, ...), optional `neurons` [layer, neuron]. The figure: a bar chart of the top
// N components by absolute value ("L1H3", "MLP2", "embed", "L1N57" when neurons are shown)
// beside a layer × head heatmap; the title gives meta["logit_diff"] and the sum of all
// components. Painting is in dla_figure.cpp.
#include <QStringList>

#include "views/colormap.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QCheckBox;
class QSpinBox;

namespace mechscope {

class ColorScaleEditor;
struct FigureStyle;

class DlaView : public ResultView {
  Q_OBJECT

 public:
  struct Component {
    QString label;  ///< "L1H3", "MLP2", "embed", "L1N57".
    double value = 0;
    int layer = -1;  ///< -1 for terms outside the layers.
  };

  explicit DlaView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "logit_attribution" with a 2-d `heads` array or a 1-d `mlp` array.
  static bool canShow(const Result& result);

  /// {"top": N, "neurons": bool, "layers": [..] (empty: all), "scale": ColorScale JSON, "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;
  std::vector<int> figureLayers() const override;

  /// The bars drawn: the top N components of the chosen layers, largest |value| first.
  std::vector<Component> shownComponents() const;
  /// Heads + MLPs + other terms (neurons are a split of the MLPs, so not added again).
  double componentSum() const { return sum_; }
  int topN() const { return top_; }
  const ColorScale& colorScale() const { return scale_; }
  /// Canvas rectangle of bar `index` of shownComponents() (empty when out of range).
  QRect barRect(int index) const;
  /// Canvas rectangle of head (layer, head) in the heatmap (empty when not drawn).
  QRect headCellRect(int layer, int head) const;

 protected:
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, caption, bars, heatmap;
    double labelWidth = 0, slot = 0, lo = 0, hi = 1;
    double valueToX(double v) const { return bars.left() + (v - lo) / (hi - lo) * bars.width(); }
  };
  Layout layout(const QRectF& rect, const FigureStyle& style) const;
  QString caption() const;  // "logit diff 3.2, sum of components 3.19", under the title
  HeatmapFigure headsFigure(const ColorScale& scale) const;
  ColorScale resolvedScale() const;
  void paintBars(QPainter& p, const Layout& L, const FigureStyle& style) const;
  void rebuildHeads();
  void syncControls();
  void userChanged();

  std::vector<Component> components_, neurons_;
  double sum_ = 0;
  int layers_ = 0, heads_ = 0;
  QStringList layerLabels_, headLabels_;
  std::vector<float> headCells_;  // chosen layers' rows of `heads`
  QStringList headRowLabels_;

  int top_ = 20;
  bool showNeurons_ = false;
  std::vector<int> layerSel_;
  ColorScale scale_;

  QSpinBox* topSpin_ = nullptr;
  QCheckBox* neuronsBox_ = nullptr;
  ColorScaleEditor* scaleEditor_ = nullptr;
};

}  // namespace mechscope
