#pragma once
// NeuronTableModel: the rows of a neuron_decoding Result — one per (layer, neuron) — as a table
// model over the arrays themselves (no per-cell items: a model has tens of thousands of neurons).
// Columns: layer, neuron, the tokens its output promotes (with logits), suppresses, its input reads
// (and its gate reads, for gated MLPs); with a token filter, a third column with that token's
// logit.
// Sorting a token column sorts by its rank-1 logit. The filter keeps the neurons whose promoted
// tokens include the token and ranks them by its logit.
#include <QAbstractTableModel>
#include <QStringList>
#include <unordered_map>
#include <vector>

#include "core/session/result.h"

namespace mechscope {

class NeuronTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum class Column { Layer, Neuron, Top, Bottom, Read, Gate, Match };
  /// Shown in views' state ("layer", "neuron", "top", "bottom", "read", "gate", "match").
  static QString columnKey(Column c);

  NeuronTableModel(const Result& result, QObject* parent = nullptr);
  /// `out_top_token` and `out_top_logit` of the same 3-d shape [layer, neuron, rank].
  static bool canShow(const Result& result);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation o, int role = Qt::DisplayRole) const override;
  void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

  /// Keeps the neurons whose promoted tokens include `token` (trimmed; "·" reads as a space;
  /// "#123" is token id 123), sorted by that token's logit, largest first. Empty: every neuron,
  /// in layer order (unless another sort was chosen).
  void setFilter(const QString& token);
  const QString& filter() const { return filter_; }
  /// Token ids the filter matches (empty without a filter).
  const std::vector<int64_t>& filterIds() const { return filterIds_; }

  /// The column index of `c`, or -1 when the table has no such column now.
  int columnOf(Column c) const;
  Column columnAt(int section) const { return columns_.at(section); }
  int sortColumn() const { return sortColumn_; }  ///< Section index (0, layer order, at first).
  Qt::SortOrder sortOrder() const { return sortOrder_; }

  int layers() const { return layers_; }
  int neurons() const { return neurons_; }
  int ranks() const { return ranks_; }
  const QStringList& layerLabels() const { return layerLabels_; }
  /// Flat neuron index (layer row × neurons + neuron) of a table row.
  int64_t neuronAt(int row) const { return rows_.at(row); }
  /// The table row of a flat neuron index, -1 when filtered out.
  int rowOf(int64_t flat) const;
  /// "L3 N57".
  QString neuronName(int64_t flat) const;
  /// "·Mary 3.21, ·John 2.90" — the first `maxRanks` tokens of array pair `which` (out_top,
  /// out_bottom, in_top, gate_top) with their logits.
  QString tokenList(const std::string& which, int64_t flat, int maxRanks = 1 << 30) const;
  /// The logit of the filter token among the neuron's promoted tokens (NaN when absent).
  float matchLogit(int64_t flat) const;
  /// Raw text (whitespace as is) of a token id; empty when unknown.
  QString rawText(int64_t id) const;
  /// Rank-`r` token id of array `which_token` for a flat neuron (-1 when absent).
  int64_t tokenId(const std::string& which, int64_t flat, int rank) const;

 private:
  const Array* arr(const std::string& which, bool logits) const;
  float sortKey(Column c, int64_t flat) const;
  void applySort();

  const Result& result_;
  int layers_ = 0, neurons_ = 0, ranks_ = 0;
  QStringList layerLabels_;
  std::unordered_map<int64_t, QString> raw_;
  std::vector<Column> columns_;
  std::vector<int64_t> rows_;
  QString filter_;
  std::vector<int64_t> filterIds_;
  std::unordered_map<int64_t, float> match_;  // flat → the filter token's logit
  int sortColumn_ = 0;
  Qt::SortOrder sortOrder_ = Qt::AscendingOrder;
};

}  // namespace mechscope
