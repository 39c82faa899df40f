#pragma once
// PatchingView: the `effect` array of activation, attribution and path patching as a heatmap —
// [layer, position], [layer, head], [component, layer, position] (a chooser for the component) or
// [layer, position, head] (a chooser for the head, or all heads as layer × head rows). Diverging
// colours centred where patching changes nothing: the corrupted run's metric for activation and
// path patching (unless the metric is normalized), 0 for attribution. Clicking a cell shows its
// exact value, labels and the patched run's top tokens below the figure; with an
// `activation_effect` array (attribution compared with activation patching) both are drawn side
// by side with their Pearson correlation. Painting is in patching_figure.cpp.
#include <QStringList>

#include "views/colormap.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QCheckBox;
class QComboBox;
class QLabel;

namespace mechscope {

class ColorScaleEditor;
struct FigureStyle;

class PatchingView : public ResultView {
  Q_OBJECT

 public:
  explicit PatchingView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe activation_patching, attribution_patching or path_patching with a 2- or 3-d `effect`.
  static bool canShow(const Result& result);

  /// {"slice": component or head index of a 3-d effect (-1: all heads), "layers": [..],
  ///  "heads": [..] (empty: all), "compare": bool, "cell": full index into `effect` or null,
  ///  "scale": ColorScale JSON, "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;
  std::vector<int> figureLayers() const override;

  int rows() const { return static_cast<int>(rows_.size()); }
  int cols() const { return static_cast<int>(cols_.size()); }
  /// The index into `effect` of the shown cell (row, col); -1 outside.
  int64_t flatIndex(int row, int col) const;
  /// The unresolved scale; its `center` is where colours turn white.
  const ColorScale& colorScale() const { return scale_; }
  /// Pearson correlation of `effect` and `activation_effect` (meta["correlation"] when given);
  /// NaN without a comparison.
  double correlation() const { return correlation_; }
  bool comparing() const { return compare_ && !activation_.empty(); }
  /// Canvas rectangle of a drawn cell (`activation`: in the right-hand panel); empty when hidden.
  QRect cellRect(int row, int col, bool activation = false) const;
  /// What the detail panel shows for the clicked cell (empty before a click).
  QString detailText() const;
  /// Text describing the cell at flat index `flat` of `effect`: labels, values, top tokens.
  QString cellDescription(int64_t flat) const;

 protected:
  void canvasClicked(const QPoint& canvasPos) override;
  bool canvasWheel(QWheelEvent* event) override;

 private:
  enum class Kind { Plain, Leading, Heads };  // 2-d; [component, layer, pos]; [layer, pos, head]
  struct Row {
    int64_t base;  // flat index of column 0
    int layer;     // -1 when the rows are not layers
    QString label;
  };
  struct Hit {
    int row = -1, col = -1;
    bool activation = false;
  };
  struct Panels {
    QRectF title, left, right;  // right is empty without a comparison
  };

  void buildControls();
  void syncControls();
  void userChanged();
  void rebuild();  // rows, columns and cells from slice, layers, heads
  QString axisTitle(int d) const;
  QString valueTitle() const;  // the colour bar's title: the metric
  void showDetail();
  HeatmapFigure panelFigure(bool activation, const ColorScale& scale) const;
  ColorScale resolvedScale() const;
  Panels panels(const QRectF& rect, const FigureStyle& style) const;
  Hit hitTest(const QRectF& rect, const QPointF& pos) const;

  const Array* effect_ = nullptr;
  const Array* activationArray_ = nullptr;
  Kind kind_ = Kind::Plain;
  std::vector<int64_t> shape_;
  std::vector<QStringList> labels_;  // per axis of `effect`
  int layerAxis_ = -1, headAxis_ = -1;
  double correlation_ = 0;

  int slice_ = 0;
  std::vector<int> layers_, heads_;
  bool compare_ = true;
  int64_t cell_ = -1;
  ColorScale scale_;

  std::vector<Row> rows_;
  std::vector<int64_t> cols_;  // flat offset of each column from a row's base
  /// [position, latent] effects (target=sae_feature): the latents whose patch changed the metric
  /// somewhere, strongest first, at most kMaxLatentColumns; empty for other layouts.
  std::vector<int> latentColumns_;
  static constexpr size_t kMaxLatentColumns = 64;
  QStringList colLabels_;
  std::vector<float> cells_, activation_;
  QString rowTitle_, colTitle_;

  QLabel* sliceLabel_ = nullptr;
  QComboBox* sliceBox_ = nullptr;
  QCheckBox* compareBox_ = nullptr;
  ColorScaleEditor* scaleEditor_ = nullptr;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
