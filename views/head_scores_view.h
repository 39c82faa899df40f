#pragma once
// HeadScoresView: per-head scores of the head detector (probe "head_detector": arrays
// `previous_token`, `duplicate_token`, `induction` [layer, head] and `induction_offset`
// [layer, head, offset], offset d = share of attention d tokens past an earlier copy) and of the
// retrieval-head probe (probe "retrieval_heads": `score` [layer, head]). The figure: the chosen
// scores as a layer × head heatmap beside their histogram (10 bins, meta["threshold"] marked) and
// the heads above the threshold, strongest first; clicking a head selects it and, when the result
// has a `pattern` [layer, head, query, key], draws that head's attention map under them.
// Painting is in head_scores_figure.cpp.
#include <QStringList>
#include <optional>

#include "views/bar_figure.h"
#include "views/colormap.h"
#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QComboBox;
class QLabel;
class QSpinBox;

namespace mechscope {

class ColorScaleEditor;
struct FigureStyle;

class HeadScoresView : public ResultView {
  Q_OBJECT

 public:
  struct HeadScore {
    int layer = 0, head = 0;
    QString label;  ///< "L1H2".
    double value = 0;
  };

  explicit HeadScoresView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "head_detector" with a 2-d `previous_token`, `duplicate_token` or `induction` (or a
  /// 3-d `induction_offset`), or probe "retrieval_heads" with a 2-d `score`.
  static bool canShow(const Result& result);

  /// {"array": name, "offset": d (induction_offset), "head": [layer, head] or null,
  ///  "scale": ColorScale JSON, "zoom"}. An unknown array keeps the current one.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  /// The score arrays offered, in the chooser's order.
  const std::vector<std::string>& arrayNames() const { return names_; }
  const std::string& arrayName() const { return array_; }
  int offset() const { return offset_; }
  /// Offsets of `induction_offset` (0 without it).
  int offsets() const { return offsets_; }
  int layers() const { return layers_; }
  int heads() const { return heads_; }
  /// The selected head as (layer, head), or nullopt.
  std::optional<std::pair<int, int>> selectedHead() const;
  /// The chosen score of a head (the chosen offset's for induction_offset).
  double score(int layer, int head) const;
  /// meta["threshold"] (0.5 for the head detector, 0.1 for retrieval heads when absent).
  double threshold() const { return threshold_; }
  /// Heads scoring above the threshold, strongest first.
  std::vector<HeadScore> headsAbove() const;
  /// The histogram's bins: kBins over [min(0, lowest), max(1, highest)] of the chosen scores.
  static constexpr int kBins = 10;
  std::vector<int> histogram() const;
  std::pair<double, double> histogramRange() const;
  /// Whether the attention map of the selected head is drawn.
  bool showsPattern() const;
  /// What the panel under the figure shows.
  QString detailText() const;
  /// Canvas rectangle of head (layer, head) in the score heatmap.
  QRect headCellRect(int layer, int head) const;
  /// Canvas rectangle of histogram bin `bin`'s slot.
  QRect binRect(int bin) const;
  /// Canvas rectangle of the attention map's cells (empty when it is not drawn).
  QRect patternRect() const;

 protected:
  void canvasClicked(const QPoint& canvasPos) override;
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, caption, scores, histogram, list, pattern;
    double lineHeight = 0;
    int lines = 0;
  };
  Layout layout(const QRectF& rect) const;
  QString caption() const;
  QString arrayTitle() const;
  QString headLabel(int layer, int head) const;
  HeatmapFigure scoresFigure() const;
  BarFigure histogramFigure() const;
  HeatmapFigure patternFigure() const;
  ColorScale resolvedScale() const;
  void paintHistogram(QPainter& p, const QRectF& rect, const FigureStyle& style) const;
  void paintList(QPainter& p, const Layout& L, const FigureStyle& style) const;
  void rebuild();
  void syncControls();
  void userChanged();

  std::vector<std::string> names_;
  int layers_ = 0, heads_ = 0, offsets_ = 0;
  QStringList layerLabels_, headLabels_, offsetLabels_;
  const Array* pattern_ = nullptr;
  QStringList queryLabels_, keyLabels_;
  double threshold_ = 0.5;

  std::string array_;
  int offset_ = 0;
  int layer_ = -1, head_ = -1;  // the selected head; -1: none
  ColorScale scale_;

  std::vector<float> cells_;  // the chosen scores, layers × heads

  QComboBox* arrayBox_ = nullptr;
  QLabel* offsetLabel_ = nullptr;
  QSpinBox* offsetSpin_ = nullptr;
  ColorScaleEditor* scaleEditor_ = nullptr;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
