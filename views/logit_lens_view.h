#pragma once
// LogitLensView: the logit lens (probe "logit_lens") — a layer × position table whose cells show
// the top-1 next token read off that layer's residual stream (text from meta["token_strings"]),
// shaded by its probability; hovering or clicking a cell gives the top-k with probabilities.
// Arrays: `top_token` and `top_prob` [layer, position, rank] (layers "L0".."final"), optional
// `answer_logprob` [layer, position], drawn under the table as the answer's log-prob across
// layers at one position (default: the last). Painting is in logit_lens_figure.cpp.
#include <QStringList>

#include "views/colormap.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QLabel;
class QSpinBox;

namespace mechscope {

class ColorScaleEditor;
struct FigureStyle;

class LogitLensView : public ResultView {
  Q_OBJECT

 public:
  explicit LogitLensView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "logit_lens" with 3-d `top_token` and `top_prob` of the same shape.
  static bool canShow(const Result& result);

  /// {"position": index for the answer chart, "cell": [layer, position] or null,
  ///  "layers": [..] (empty: all), "scale": ColorScale JSON, "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;
  std::vector<int> figureLayers() const override;

  int layers() const { return layers_; }
  int positions() const { return positions_; }
  int position() const { return position_; }
  bool hasAnswer() const { return answer_ != nullptr; }
  /// The text drawn in cell (layer, position): the top-1 token.
  QString cellText(int layer, int position) const;
  /// Layer, position, top-k tokens with probabilities (and the answer's log-prob) of a cell.
  QString cellDescription(int layer, int position) const;
  /// What the detail panel shows for the clicked cell (empty before a click).
  QString detailText() const;
  /// Canvas rectangle of a drawn table cell (rows are the chosen layers); empty when hidden.
  QRect cellRect(int layer, int position) const;

 protected:
  void canvasClicked(const QPoint& canvasPos) override;
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF table, chart;  // chart: empty without answer_logprob
  };
  Layout layout(const QRectF& rect) const;
  HeatmapFigure tableFigure() const;
  void paintAnswerChart(QPainter& p, const QRectF& rect, const FigureStyle& style) const;
  void rebuild();
  void syncControls();
  void userChanged();
  void showDetail();

  const Array* tokens_ = nullptr;
  const Array* probs_ = nullptr;
  const Array* answer_ = nullptr;
  int layers_ = 0, positions_ = 0, ranks_ = 0;
  QStringList layerLabels_, positionLabels_;

  int position_ = 0;
  int cellLayer_ = -1, cellPosition_ = -1;
  std::vector<int> layerSel_;
  ColorScale scale_;

  std::vector<int> rowLayers_;  // the layers drawn, top to bottom
  std::vector<float> top1_;     // their top-1 probabilities
  QStringList texts_;           // their top-1 tokens

  QSpinBox* positionSpin_ = nullptr;
  ColorScaleEditor* scaleEditor_ = nullptr;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
