#pragma once
// NeuronTableView: neuron decoding (probe "neuron_decoding") — every MLP neuron with the tokens
// its output promotes and suppresses and the tokens its input (and gate) reads, as a sortable,
// searchable table (NeuronTableModel over the arrays). The filter box finds the neurons that
// promote a token, ranked by its logit. The figure (what export draws) is a per-layer summary —
// the share of neurons whose top token starts a word, is a number, is punctuation — as grouped
// bars, and the table's first rows as text. Painting is in neuron_table_figure.cpp.
#include <vector>

#include "views/bar_figure.h"
#include "views/result_view.h"

class QLabel;
class QLineEdit;
class QTableView;

namespace mechscope {

class NeuronTableModel;

class NeuronTableView : public ResultView {
  Q_OBJECT

 public:
  /// Per layer, the shares of neurons whose rank-1 promoted token is of each class.
  struct LayerShares {
    double wordStart = 0, digit = 0, punctuation = 0;
  };

  explicit NeuronTableView(std::shared_ptr<const Result> result, QWidget* parent = nullptr);
  /// Probe "neuron_decoding" with 3-d `out_top_token` and `out_top_logit` of the same shape.
  static bool canShow(const Result& result);

  /// {"filter": token text, "sort_column": "layer"|"neuron"|"top"|"bottom"|"read"|"gate"|"match",
  ///  "sort_order": "ascending"|"descending", "selected": [layer index, neuron] or null}.
  nlohmann::json state() const override;
  void setState(const nlohmann::json& state) override;
  void paintFigure(QPainter& painter, const QRect& rect) const override;
  QString figureTitle() const override;
  int figureHeightForWidth(int width) const override;
  QString toolTipAt(const QPoint& canvasPos) const override;

  NeuronTableModel* model() const { return model_; }
  QTableView* table() const { return table_; }
  QLineEdit* filterEdit() const { return filterEdit_; }
  const std::vector<LayerShares>& shares() const { return shares_; }
  /// Flat index (layer × neurons + neuron) of the selected neuron, -1 for none.
  int64_t selectedNeuron() const { return selected_; }
  /// The lines the figure lists under the chart: the table's first `count` rows.
  QStringList topRowLines(int count) const;

 private:
  struct Layout {
    QRectF title, bars, rows;
    int rowCount = 0;
    double lineHeight = 0;
  };
  Layout layout(const QRectF& rect) const;
  BarFigure sharesFigure() const;
  void computeShares();
  void sizeColumns();
  void syncControls();
  void selectRow();  // the table's selection from selected_

  NeuronTableModel* model_ = nullptr;
  std::vector<LayerShares> shares_;
  int64_t selected_ = -1;
  bool syncing_ = false;

  QLineEdit* filterEdit_ = nullptr;
  QLabel* countLabel_ = nullptr;
  QTableView* table_ = nullptr;
};

}  // namespace mechscope
