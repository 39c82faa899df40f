#pragma once
// AttentionView: draws the "pattern" array [layer, head, query, key] of an attention Result in
// three modes — every head of one layer as a grid of small heatmaps, every layer × head as
// thumbnails, or one head with query and key tokens on its axes (wheel to zoom, drag to pan).
// Clicking a thumbnail opens that head; hovering a cell names its query, key and weight.
#include <QStringList>

#include "views/colormap.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QComboBox;
class QSpinBox;

namespace mechscope {

class ColorScaleEditor;

class AttentionView : public ResultView {
  Q_OBJECT

 public:
  enum class Mode { Layer, All, Head };

  explicit AttentionView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "attention" with a non-empty "pattern" of 4 ([layer, head, query, key]) or 3 dimensions.
  static bool canShow(const Result& result);

  /// {"mode": "layer"|"all"|"head", "layer", "head", "query": [from, to], "key": [from, to]
  ///  (inclusive token indices), "scale": ColorScale JSON, "zoom"}, plus "layers" and "heads"
  ///  (the layers and heads drawn; all when absent or empty) when they are not empty. A layer or
  ///  head outside them moves to their first.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;
  /// The chosen layers (all when none are): export per layer draws each.
  std::vector<int> figureLayers() const override;

  Mode mode() const { return mode_; }
  int layer() const { return layer_; }
  int head() const { return head_; }
  int layers() const { return layers_; }
  int heads() const { return heads_; }
  int queries() const { return queries_; }
  int keys() const { return keys_; }
  /// Whether the one-layer grid draws token labels beside each head's panel (they fit).
  bool gridHasTokenLabels(const QRectF& rect) const;

  /// Canvas rectangle of a head's cells in the grid modes (empty when that head is not drawn).
  QRect thumbnailRect(int layer, int head) const;
  /// Canvas rectangle of cell (query, key) in single-head mode (empty otherwise or out of range).
  QRect cellRect(int query, int key) const;

 protected:
  void canvasClicked(const QPoint& canvasPos) override;
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Hit {
    int layer = -1, head = -1, query = -1, key = -1;
  };
  struct Thumb {
    int layer, head;
    QRectF cells, caption;
  };
  struct Grid {
    QRectF title, colorBar;
    std::vector<Thumb> thumbs;
    struct Header {
      QRectF rect;
      QString text;
      int align;
    };
    std::vector<Header> headers;  // the all-heads grid's row and column headers ("L0", "H3")
    double naturalHeight = 0;     // the height the grid needs at this width
    bool tokenLabels = false;     // query/key labels beside each panel (one-layer grid)
  };

  MatrixRef headMatrix(int layer, int head) const;  // the token range of one head
  ColorScale resolvedScale() const;
  HeatmapFigure headFigure(const ColorScale& scale) const;
  Grid gridLayout(const QRectF& rect, const FigureStyle& style, const ColorScale& scale) const;
  Hit hitTest(const QRectF& rect, const QPointF& pos) const;
  QString layerName(int layer) const;           // "L3" or the layer axis' label
  QString headShortName(int head) const;        // "H5" or the head axis' label
  QString headName(int layer, int head) const;  // "L3H5"
  void paintGrid(QPainter& p, const QRectF& rect, const FigureStyle& style) const;
  void paintTokenLabels(QPainter& p, const QRectF& cells, const FigureStyle& style) const;
  std::vector<int> shownLayers() const;
  std::vector<int> shownHeads() const;
  void keepInSelection();  // layer_ and head_ inside the chosen layers and heads

  void buildControls();
  void syncControls();
  void userChanged();
  void setMode(Mode mode);

  const Array* pattern_ = nullptr;
  int layers_ = 1, heads_ = 1, queries_ = 0, keys_ = 0;
  QStringList queryLabels_, keyLabels_, layerLabels_, headLabels_;

  Mode mode_ = Mode::Layer;
  int layer_ = 0, head_ = 0;
  std::vector<int> layerSel_, headSel_;    // empty: all
  int q0_ = 0, q1_ = 0, k0_ = 0, k1_ = 0;  // inclusive token ranges
  ColorScale scale_;

  QComboBox* modeBox_ = nullptr;
  QSpinBox *layerSpin_ = nullptr, *headSpin_ = nullptr;
  QSpinBox *q0Spin_ = nullptr, *q1Spin_ = nullptr, *k0Spin_ = nullptr, *k1Spin_ = nullptr;
  ColorScaleEditor* scaleEditor_ = nullptr;
};

}  // namespace mechscope
