#pragma once
// HeadSvdView: attention-head SVD (probe "head_svd") — a layer × head grid of each head's copying
// score (diverging, centred on 0, fixed to [-1, 1]); clicking a head shows its OV or QK
// singular-value spectrum (the chosen circuit as bars, the other as a line) and, for the leading
// OV components, the tokens each reads (through W_E) and writes (through W_U). Arrays:
// `ov_singular_values`, `qk_singular_values` [layer, head, component], `ov_in_top_token`,
// `ov_out_top_token` [layer, head, component, rank] (maybe fewer components than the singular
// values), `copying_score` [layer, head]. Painting is in head_svd_figure.cpp.
#include <QStringList>

#include "views/bar_figure.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QComboBox;
class QLabel;

namespace mechscope {

class HeadSvdView : public ResultView {
  Q_OBJECT

 public:
  explicit HeadSvdView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "head_svd" with a 2-d `copying_score` and 3-d `ov_singular_values` of its layers × heads.
  static bool canShow(const Result& result);

  /// {"layer", "head", "circuit": "ov"|"qk", "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  int layer() const { return layer_; }
  int head() const { return head_; }
  bool qk() const { return qk_; }
  /// The selected head's singular values of the chosen circuit.
  std::vector<double> spectrum(bool qk) const;
  /// "C0 σ 3.21: reads ·Mary, ·John → writes ·Mary, ·she" for the selected head's leading
  /// components that have token lists.
  QStringList componentLines() const;
  /// What the panel under the figure shows.
  QString detailText() const;
  /// Canvas rectangle of head (layer, head) in the grid.
  QRect headCellRect(int layer, int head) const;

 protected:
  void canvasClicked(const QPoint& canvasPos) override;
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, grid, spectrum, tokens;
    double lineHeight = 0;
    int lines = 0;
  };
  Layout layout(const QRectF& rect) const;
  HeatmapFigure gridFigure() const;
  BarFigure spectrumFigure() const;
  QString headName() const;
  void userChanged();

  const Array* copying_ = nullptr;
  const Array* ov_ = nullptr;
  const Array* qkValues_ = nullptr;
  int layers_ = 0, heads_ = 0;
  QStringList layerLabels_, headLabels_;

  int layer_ = 0, head_ = 0;
  bool qk_ = false;

  QComboBox* circuitBox_ = nullptr;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
