#pragma once
// SaeCircuitView: discrete-SAE circuit finding (probe "sae_circuit": `head_score` [layer, head],
// `edge_score` [sender_layer, sender_head, receiver_layer, receiver_head], `truth_effect`
// [layer, head], `roc` / `edge_roc` [point, axis (fpr, tpr)], meta truth_heads, auc, edge_auc,
// seconds_sae, seconds_patching). Three figures, chosen in a combo box:
//   heads  the top heads by score as bars (the patching effect on a right-hand axis), the
//          activation-patching truth heads outlined in red;
//   graph  heads as nodes on a layer × head grid coloured by score, truth heads ringed, the
//          sender → receiver edges whose edge_score reaches the threshold (slider) as curves;
//   roc    the ROC curves against the patching truth, the AUCs in the legend.
// Painting is in sae_circuit_figure.cpp.
#include <QStringList>
#include <optional>

#include "views/bar_figure.h"
#include "views/circuit_graph_figure.h"
#include "views/result_view.h"
#include "views/roc_figure.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;

namespace mechscope {

class SaeCircuitView : public ResultView {
  Q_OBJECT

 public:
  enum class Figure { Heads, Graph, Roc };

  struct RankedHead {
    int layer = 0, head = 0;
    QString label;  ///< "L1H2"
    double score = 0;
    bool truth = false;
  };

  explicit SaeCircuitView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "sae_circuit" with a 2-d `head_score`.
  static bool canShow(const Result& result);

  /// {"figure": "heads"|"graph"|"roc", "threshold": the graph's edge threshold, "zoom"}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  /// "heads", "graph", "roc" (the state's names).
  static const char* figureName(Figure figure);
  Figure figure() const { return figure_; }
  double threshold() const { return threshold_; }
  /// Half the largest edge score, rounded up for whole-number scores (code-pair counts).
  double defaultThreshold() const;
  double edgeMax() const { return edgeMax_; }
  int layers() const { return layers_; }
  int heads() const { return heads_; }
  double score(int layer, int head) const;
  bool isTruth(int layer, int head) const;
  /// Heads by score, highest first (ties in head order), at most kTopHeads.
  static constexpr int kTopHeads = 24;
  std::vector<RankedHead> rankedHeads() const;
  /// The edges the graph draws: edge_score ≥ threshold and > 0, sender before receiver.
  std::vector<GraphEdge> visibleEdges() const;
  /// meta["auc"] / meta["edge_auc"] when numbers.
  std::optional<double> auc() const;
  std::optional<double> edgeAuc() const;

  BarFigure headsFigure() const;
  CircuitGraphFigure graphFigure() const;
  RocFigure rocFigure() const;
  /// What the panel under the figure shows.
  QString detailText() const;
  /// The canvas rectangle of the figure under the heading.
  QRectF figureRect() const;
  /// The canvas rectangle of a head's node in the graph (empty unless the graph is shown).
  QRect nodeRect(int layer, int head) const;

 protected:
  bool canvasWheel(QWheelEvent* event) override;

 private:
  QString caption() const;
  QString headLabel(int layer, int head) const;
  QRectF bodyRect(const QRectF& rect) const;
  void syncControls();
  void userChanged();

  int layers_ = 0, heads_ = 0;
  QStringList layerLabels_, headLabels_;
  std::vector<float> score_;      // layers × heads
  std::vector<float> count_;      // head_count, or empty
  std::vector<float> effect_;     // truth_effect, or empty
  std::vector<bool> truth_;       // layers × heads
  const Array* edges_ = nullptr;  // edge_score, when 4-d of the right shape
  double edgeMax_ = 0;
  bool integerEdges_ = true;

  Figure figure_ = Figure::Heads;
  double threshold_ = 0;

  QComboBox* figureBox_ = nullptr;
  QLabel* thresholdLabel_ = nullptr;
  QSlider* slider_ = nullptr;
  QDoubleSpinBox* spin_ = nullptr;
  QLabel* detail_ = nullptr;
};

}  // namespace mechscope
