#include "views/neuron_table_model.h"

#include <algorithm>
#include <cmath>

#include "views/axis_labels.h"
#include "views/probe_data.h"
#include "views/token_text.h"

namespace mechscope {
namespace {

constexpr int kCellRanks = 5;  // tokens shown in a cell; the tooltip has all

std::string prefixOf(NeuronTableModel::Column c) {
  switch (c) {
    case NeuronTableModel::Column::Top: return "out_top";
    case NeuronTableModel::Column::Bottom: return "out_bottom";
    case NeuronTableModel::Column::Read: return "in_top";
    case NeuronTableModel::Column::Gate: return "gate_top";
    default: return {};
  }
}

}  // namespace

QString NeuronTableModel::columnKey(Column c) {
  switch (c) {
    case Column::Layer: return QStringLiteral("layer");
    case Column::Neuron: return QStringLiteral("neuron");
    case Column::Top: return QStringLiteral("top");
    case Column::Bottom: return QStringLiteral("bottom");
    case Column::Read: return QStringLiteral("read");
    case Column::Gate: return QStringLiteral("gate");
    case Column::Match: return QStringLiteral("match");
  }
  return {};
}

bool NeuronTableModel::canShow(const Result& result) {
  const Array* t = usableArray(result, "out_top_token");
  const Array* l = usableArray(result, "out_top_logit");
  return t && l && t->shape.size() == 3 && t->shape == l->shape;
}

NeuronTableModel::NeuronTableModel(const Result& result, QObject* parent)
    : QAbstractTableModel(parent), result_(result) {
  const Array& top = *usableArray(result_, "out_top_token");
  layers_ = static_cast<int>(top.shape[0]);
  neurons_ = static_cast<int>(top.shape[1]);
  ranks_ = static_cast<int>(top.shape[2]);
  layerLabels_ = top.axes.empty() ? QStringList() : axisLabels(top.axes[0], layers_);
  for (int l = layerLabels_.size(); l < layers_; ++l) layerLabels_ << QStringLiteral("L%1").arg(l);
  raw_ = tokenStrings(result_);
  columns_ = {Column::Layer, Column::Neuron, Column::Top};
  for (Column c : {Column::Bottom, Column::Read, Column::Gate})
    if (arr(prefixOf(c), false) && arr(prefixOf(c), true)) columns_.push_back(c);
  rows_.resize(size_t(layers_) * neurons_);
  for (size_t i = 0; i < rows_.size(); ++i) rows_[i] = int64_t(i);
}

const Array* NeuronTableModel::arr(const std::string& which, bool logits) const {
  const Array* a = usableArray(result_, which + (logits ? "_logit" : "_token"));
  const Array& top = *usableArray(result_, "out_top_token");
  return a && a->shape.size() == 3 && a->shape[0] == top.shape[0] && a->shape[1] == top.shape[1]
             ? a
             : nullptr;
}

int NeuronTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int NeuronTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(columns_.size());
}

int NeuronTableModel::columnOf(Column c) const {
  auto it = std::find(columns_.begin(), columns_.end(), c);
  return it == columns_.end() ? -1 : static_cast<int>(it - columns_.begin());
}

int NeuronTableModel::rowOf(int64_t flat) const {
  auto it = std::find(rows_.begin(), rows_.end(), flat);
  return it == rows_.end() ? -1 : static_cast<int>(it - rows_.begin());
}

QString NeuronTableModel::neuronName(int64_t flat) const {
  if (flat < 0 || neurons_ <= 0) return {};
  return QStringLiteral("%1 N%2").arg(layerLabels_.value(int(flat / neurons_))).arg(flat % neurons_);
}

QString NeuronTableModel::rawText(int64_t id) const {
  auto it = raw_.find(id);
  return it == raw_.end() ? QString() : it->second;
}

int64_t NeuronTableModel::tokenId(const std::string& which, int64_t flat, int rank) const {
  const Array* t = arr(which, false);
  if (!t || rank < 0 || rank >= t->shape[2]) return -1;
  const float id = t->data[flat * t->shape[2] + rank];
  return std::isfinite(id) && id >= 0 ? std::llround(id) : -1;
}

QString NeuronTableModel::tokenList(const std::string& which, int64_t flat, int maxRanks) const {
  const Array* t = arr(which, false);
  const Array* l = arr(which, true);
  if (!t || !l || t->shape != l->shape) return {};
  const int64_t k = t->shape[2];
  QStringList parts;
  for (int64_t r = 0; r < k && r < maxRanks; ++r) {
    const float id = t->data[flat * k + r];
    if (!std::isfinite(id) || id < 0) continue;
    parts << QStringLiteral("%1 %2").arg(tokenText(result_, id),
                                         QString::number(l->data[flat * k + r], 'f', 2));
  }
  if (k > maxRanks) parts << QStringLiteral("…");
  return parts.join(QStringLiteral(", "));
}

float NeuronTableModel::matchLogit(int64_t flat) const {
  auto it = match_.find(flat);
  return it == match_.end() ? NAN : it->second;
}

QVariant NeuronTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount())
    return {};
  const int64_t flat = rows_[index.row()];
  const Column c = columns_[index.column()];
  if (role == Qt::TextAlignmentRole)
    return c == Column::Layer || c == Column::Neuron || c == Column::Match
               ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
               : QVariant();
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  switch (c) {
    case Column::Layer: return layerLabels_.value(int(flat / neurons_));
    case Column::Neuron: return int(flat % neurons_);
    case Column::Match: return QString::number(matchLogit(flat), 'f', 3);
    default:
      return tokenList(prefixOf(c), flat, role == Qt::ToolTipRole ? (1 << 30) : kCellRanks);
  }
}

QVariant NeuronTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
  if (role == Qt::ToolTipRole) {
    switch (columns_[section]) {
      case Column::Top: return tr("Tokens the neuron's output promotes most (sorts by the top logit)");
      case Column::Bottom: return tr("Tokens its output suppresses most (sorts by the lowest logit)");
      case Column::Read: return tr("Tokens its input (up-projection) reads most");
      case Column::Gate: return tr("Tokens its gate reads most");
      case Column::Match: return tr("The filter token's logit in the neuron's output");
      default: return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (columns_[section]) {
    case Column::Layer: return tr("Layer");
    case Column::Neuron: return tr("Neuron");
    case Column::Top: return tr("Promotes");
    case Column::Bottom: return tr("Suppresses");
    case Column::Read: return tr("Reads");
    case Column::Gate: return tr("Gate reads");
    case Column::Match: return tr("“%1” logit").arg(filter_.trimmed());
  }
  return {};
}

float NeuronTableModel::sortKey(Column c, int64_t flat) const {
  switch (c) {
    case Column::Layer: return float(flat);
    case Column::Neuron: return float(flat % neurons_) * float(layers_) + float(flat / neurons_);
    case Column::Match: return matchLogit(flat);
    default: {
      const Array* l = arr(prefixOf(c), true);
      return l ? l->data[flat * l->shape[2]] : 0.0f;
    }
  }
}

void NeuronTableModel::applySort() {
  const Column c = columns_.at(sortColumn_);
  const bool descending = sortOrder_ == Qt::DescendingOrder;
  std::vector<std::pair<float, int64_t>> keyed;
  keyed.reserve(rows_.size());
  for (int64_t flat : rows_) {
    const float k = sortKey(c, flat);
    keyed.push_back({std::isnan(k) ? (descending ? -INFINITY : INFINITY) : k, flat});
  }
  // Ties in neuron order, whatever the direction.
  std::sort(keyed.begin(), keyed.end(), [descending](const auto& a, const auto& b) {
    if (a.first != b.first) return descending ? a.first > b.first : a.first < b.first;
    return a.second < b.second;
  });
  for (size_t i = 0; i < keyed.size(); ++i) rows_[i] = keyed[i].second;
}

void NeuronTableModel::sort(int column, Qt::SortOrder order) {
  emit layoutAboutToBeChanged();
  sortColumn_ = column >= 0 && column < columnCount() ? column : 0;
  sortOrder_ = order;
  applySort();
  emit layoutChanged();
}

void NeuronTableModel::setFilter(const QString& token) {
  beginResetModel();
  const Column sortedBy = columns_.at(sortColumn_);
  columns_.erase(std::remove(columns_.begin(), columns_.end(), Column::Match), columns_.end());
  filter_ = token;
  filterIds_.clear();
  match_.clear();
  QString want = token;
  want.replace(QChar(0x00B7), QLatin1Char(' '));
  want = want.trimmed();
  if (!want.isEmpty()) {
    bool isId = false;
    const qlonglong id = want.startsWith('#') ? want.mid(1).toLongLong(&isId) : 0;
    if (isId) filterIds_.push_back(id);
    for (const auto& [tid, text] : raw_)
      if (!isId && text.trimmed() == want) filterIds_.push_back(tid);
    std::sort(filterIds_.begin(), filterIds_.end());
  }
  rows_.clear();
  if (want.isEmpty()) {
    rows_.resize(size_t(layers_) * neurons_);
    for (size_t i = 0; i < rows_.size(); ++i) rows_[i] = int64_t(i);
  } else {
    columns_.insert(columns_.begin() + 2, Column::Match);  // beside the neuron: always in view
    const Array& t = *usableArray(result_, "out_top_token");
    const Array& l = *usableArray(result_, "out_top_logit");
    const int64_t n = int64_t(layers_) * neurons_;
    for (int64_t flat = 0; flat < n; ++flat)
      for (int64_t r = 0; r < ranks_; ++r) {
        const float id = t.data[flat * ranks_ + r];
        if (!std::isfinite(id) || id < 0 ||
            !std::binary_search(filterIds_.begin(), filterIds_.end(), std::llround(id)))
          continue;
        auto [it, fresh] = match_.emplace(flat, l.data[flat * ranks_ + r]);
        if (fresh) rows_.push_back(flat);
        else it->second = std::max(it->second, l.data[flat * ranks_ + r]);
      }
  }
  // A filter ranks by its token's logit; without one, keep the chosen sort (not the match column).
  if (!want.isEmpty()) {
    sortColumn_ = columnOf(Column::Match);
    sortOrder_ = Qt::DescendingOrder;
  } else {
    sortColumn_ = sortedBy == Column::Match ? 0 : columnOf(sortedBy);
    if (sortedBy == Column::Match) sortOrder_ = Qt::AscendingOrder;
  }
  applySort();
  endResetModel();
}

}  // namespace mechscope
