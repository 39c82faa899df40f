#pragma once
// CompositionView: head composition (probe "composition") — a sender × receiver matrix of Q-, K-
// or V-composition scores (rows "L0H1", columns "L1H0"; only senders in earlier layers than their
// receivers, the other cells blank). A threshold (default: twice the random baseline,
// meta["baseline"][mode]) fades the cells below it; the baseline and the threshold are marked on
// the colour bar, and the strongest pairs above the threshold are listed beside the matrix.
// Arrays `q`, `k`, `v` [sender_layer, sender_head, receiver_layer, receiver_head].
// Painting is in composition_figure.cpp.
#include <QStringList>
#include <optional>

#include "views/heatmap_figure.h"
#include "views/result_view.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSlider;

namespace mechscope {

class CompositionView : public ResultView {
  Q_OBJECT

 public:
  struct Pair {
    QString sender, receiver;
    double value = 0;
    int row = -1, col = -1;
  };

  explicit CompositionView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "composition" with 4-d `q`, `k` or `v` arrays.
  static bool canShow(const Result& result);

  /// {"mode": "q"|"k"|"v", "threshold": number, "zoom"}. A mode without a threshold gets that
  /// mode's default threshold.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  const std::string& mode() const { return mode_; }
  double threshold() const { return threshold_; }
  /// meta["baseline"][mode], when present.
  std::optional<double> baseline() const;
  /// baseline × 2, or 0 without a baseline.
  double defaultThreshold(const std::string& mode) const;
  int rows() const { return rowLabels_.size(); }
  int cols() const { return colLabels_.size(); }
  const QStringList& rowLabels() const { return rowLabels_; }
  const QStringList& colLabels() const { return colLabels_; }
  /// The score of a cell (NaN where the sender is not before the receiver).
  float cellValue(int row, int col) const;
  /// Drawn faded: below the threshold (or not meaningful).
  bool faded(int row, int col) const;
  /// Pairs at or above the threshold, strongest first, at most `count`.
  std::vector<Pair> strongestPairs(int count = 1 << 30) const;
  QRect cellRect(int row, int col) const;

 protected:
  bool canvasWheel(QWheelEvent* event) override;

 private:
  struct Layout {
    QRectF title, caption, matrix, pairs;
    double lineHeight = 0;
    int lines = 0;
  };
  Layout layout(const QRectF& rect) const;
  HeatmapFigure matrixFigure() const;
  QString caption() const;
  void rebuild();
  void setMode(const std::string& mode);
  void syncControls();
  void userChanged();

  std::vector<std::string> modes_;
  std::string mode_;
  double threshold_ = 0;
  int layers_ = 0, heads_ = 0, firstRowLayer_ = 0, firstColLayer_ = 0;
  QStringList rowLabels_, colLabels_;
  std::vector<float> cells_;
  float max_ = 1;

  QComboBox* modeBox_ = nullptr;
  QSlider* slider_ = nullptr;
  QDoubleSpinBox* spin_ = nullptr;
  QLabel* pairsLabel_ = nullptr;
};

}  // namespace mechscope
