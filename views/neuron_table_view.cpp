// NeuronTableView: the table, the filter box, the per-layer shares and state. The figure is in
// neuron_table_figure.cpp.
#include "views/neuron_table_view.h"

#include <QBoxLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QTableView>

#include "views/neuron_table_model.h"
#include "views/probe_data.h"
#include "views/token_classes.h"

namespace mechscope {

bool NeuronTableView::canShow(const Result& result) {
  return result.probe == "neuron_decoding" && NeuronTableModel::canShow(result);
}

NeuronTableView::NeuronTableView(std::shared_ptr<const Result> result, QWidget* parent)
    : ResultView(std::move(result), parent) {
  model_ = new NeuronTableModel(*result_, this);
  computeShares();

  auto* row = new QHBoxLayout;
  filterEdit_ = new QLineEdit(this);
  filterEdit_->setPlaceholderText(tr("Neurons that promote token… (e.g. Mary, ·the, #123)"));
  filterEdit_->setClearButtonEnabled(true);
  filterEdit_->setToolTip(tr("Keeps the neurons whose promoted tokens include this token and "
                             "ranks them by its logit. Spaces around it are ignored."));
  countLabel_ = new QLabel(this);
  row->addWidget(new QLabel(tr("Promotes"), this));
  row->addWidget(filterEdit_, 1);
  row->addWidget(countLabel_);
  controlsLayout()->addLayout(row);

  table_ = new QTableView(this);
  table_->setModel(model_);
  // Enabling sorting sorts by the header's indicator: make that the model's layer order.
  table_->horizontalHeader()->setSortIndicator(model_->sortColumn(), model_->sortOrder());
  table_->setSortingEnabled(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setWordWrap(false);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  sizeColumns();
  addBelowFigure(table_);
  if (auto* box = qobject_cast<QBoxLayout*>(QWidget::layout())) box->setStretchFactor(table_, 2);

  connect(filterEdit_, &QLineEdit::textChanged, this, [this](const QString& text) {
    model_->setFilter(text);
    sizeColumns();
    syncControls();
    selectRow();
    updateFigure();
    emit stateChanged();
  });
  connect(table_->horizontalHeader(), &QHeaderView::sortIndicatorChanged, this, [this] {
    if (syncing_) return;
    updateFigure();
    emit stateChanged();
  });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            if (syncing_ || !current.isValid()) return;
            selected_ = model_->neuronAt(current.row());
            updateFigure();
            emit stateChanged();
          });
  syncControls();
}

void NeuronTableView::sizeColumns() {
  for (int c = 0; c < model_->columnCount(); ++c) {
    const auto col = model_->columnAt(c);
    const bool narrow = col == NeuronTableModel::Column::Layer ||
                        col == NeuronTableModel::Column::Neuron ||
                        col == NeuronTableModel::Column::Match;
    table_->setColumnWidth(c, narrow ? 70 : 260);
  }
}

void NeuronTableView::computeShares() {
  const int L = model_->layers(), N = model_->neurons();
  shares_.assign(L, {});
  for (int l = 0; l < L; ++l) {
    int word = 0, digit = 0, punct = 0, known = 0;
    for (int n = 0; n < N; ++n) {
      const int64_t id = model_->tokenId("out_top", int64_t(l) * N + n, 0);
      if (id < 0) continue;
      const QString raw = model_->rawText(id);
      ++known;
      word += tokenStartsWord(raw);
      digit += tokenIsDigits(raw);
      punct += tokenIsPunctuation(raw);
    }
    if (known > 0) shares_[l] = {double(word) / known, double(digit) / known, double(punct) / known};
  }
}

void NeuronTableView::syncControls() {
  syncing_ = true;
  {
    const QSignalBlocker b(filterEdit_);
    if (filterEdit_->text() != model_->filter()) filterEdit_->setText(model_->filter());
  }
  table_->horizontalHeader()->setSortIndicator(model_->sortColumn(), model_->sortOrder());
  syncing_ = false;
  const int total = model_->layers() * model_->neurons();
  countLabel_->setText(model_->filter().trimmed().isEmpty()
                           ? tr("%1 neurons").arg(total)
                           : tr("%1 of %2 neurons").arg(model_->rowCount()).arg(total));
}

void NeuronTableView::selectRow() {
  syncing_ = true;
  const int row = selected_ >= 0 ? model_->rowOf(selected_) : -1;
  if (row < 0) {
    table_->clearSelection();
  } else {
    table_->selectRow(row);
    table_->scrollTo(model_->index(row, 0));
  }
  syncing_ = false;
}

nlohmann::json NeuronTableView::state() const {
  const int N = model_->neurons();
  return {{"filter", model_->filter().toStdString()},
          {"sort_column",
           NeuronTableModel::columnKey(model_->columnAt(model_->sortColumn())).toStdString()},
          {"sort_order", model_->sortOrder() == Qt::DescendingOrder ? "descending" : "ascending"},
          {"selected", selected_ >= 0 ? nlohmann::json({selected_ / N, selected_ % N})
                                      : nlohmann::json()}};
}

void NeuronTableView::setState(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto it = j.find("filter"); it != j.end() && it->is_string()) {
    model_->setFilter(QString::fromStdString(it->get<std::string>()));
    sizeColumns();
  }
  int column = model_->sortColumn();
  Qt::SortOrder order = model_->sortOrder();
  if (auto it = j.find("sort_column"); it != j.end() && it->is_string())
    for (int c = 0; c < model_->columnCount(); ++c)
      if (NeuronTableModel::columnKey(model_->columnAt(c)).toStdString() == it->get<std::string>())
        column = c;
  if (auto it = j.find("sort_order"); it != j.end() && it->is_string())
    order = it->get<std::string>() == "descending" ? Qt::DescendingOrder : Qt::AscendingOrder;
  if (column != model_->sortColumn() || order != model_->sortOrder()) model_->sort(column, order);
  if (auto it = j.find("selected"); it != j.end()) {
    if (it->is_null()) selected_ = -1;
    if (it->is_array() && it->size() == 2 && (*it)[0].is_number_integer() &&
        (*it)[1].is_number_integer()) {
      const int64_t l = (*it)[0].get<int64_t>(), n = (*it)[1].get<int64_t>();
      if (l >= 0 && l < model_->layers() && n >= 0 && n < model_->neurons())
        selected_ = l * model_->neurons() + n;
    }
  }
  syncControls();
  selectRow();
  updateFigure();
}

}  // namespace mechscope
