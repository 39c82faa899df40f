#include "app/gui/results_browser.h"

#include <QDateTime>
#include <QHeaderView>
#include <QKeyEvent>
#include <QMenu>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/session/result.h"

namespace mechscope {
namespace {

constexpr int kIdRole = Qt::UserRole;         // a result row's id
constexpr int kProbeRole = Qt::UserRole + 1;  // a group row's probe

QString qs(const std::string& s) { return QString::fromStdString(s); }

// The prompt a result was made from, when its metadata names one.
QString promptOf(const Result& r) {
  const auto inputs = r.meta.find("inputs");
  if (inputs == r.meta.end() || !inputs->is_object()) return {};
  const auto prompt = inputs->find("prompt");
  return prompt != inputs->end() && prompt->is_string() ? qs(prompt->get<std::string>())
                                                        : QString();
}

QString metaString(const nlohmann::json& meta, const char* key) {
  const auto it = meta.find(key);
  return it != meta.end() && it->is_string() ? qs(it->get<std::string>()) : QString();
}

}  // namespace

ResultsBrowser::ResultsBrowser(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  tree_ = new QTreeWidget(this);
  tree_->setObjectName("resultsTree");
  tree_->setColumnCount(2);
  tree_->setHeaderLabels({tr("Result"), tr("Created")});
  tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  tree_->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  tree_->header()->setStretchLastSection(false);
  tree_->setSelectionMode(QAbstractItemView::SingleSelection);
  tree_->setContextMenuPolicy(Qt::CustomContextMenu);
  tree_->setRootIsDecorated(true);
  tree_->setUniformRowHeights(true);
  tree_->installEventFilter(this);
  layout->addWidget(tree_);

  connect(tree_, &QTreeWidget::itemSelectionChanged, this,
          [this] { emit selectionChanged(selectedId()); });
  connect(tree_, &QTreeWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    QTreeWidgetItem* row = tree_->itemAt(pos);
    const QString id = row ? row->data(0, kIdRole).toString() : QString();
    if (id.isEmpty()) return;
    QMenu* menu = contextMenu(id);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(tree_->viewport()->mapToGlobal(pos));
  });
}

QTreeWidgetItem* ResultsBrowser::group(const QString& probe) {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i)
    if (tree_->topLevelItem(i)->data(0, kProbeRole).toString() == probe)
      return tree_->topLevelItem(i);
  auto* g = new QTreeWidgetItem(tree_);
  g->setData(0, kProbeRole, probe);
  g->setFlags(Qt::ItemIsEnabled);  // groups are not selectable: only results are
  QFont bold = g->font(0);
  bold.setBold(true);
  g->setFont(0, bold);
  g->setExpanded(true);
  return g;
}

void ResultsBrowser::updateGroupText(QTreeWidgetItem* g) {
  g->setText(0, tr("%1 (%2)").arg(g->data(0, kProbeRole).toString()).arg(g->childCount()));
}

void ResultsBrowser::addResult(const Result& r) {
  QTreeWidgetItem* g = group(qs(r.probe));
  auto* row = new QTreeWidgetItem(g);
  const QString id = qs(r.id);
  row->setData(0, kIdRole, id);
  const QString prompt = promptOf(r);
  row->setText(0, r.title.empty() ? (prompt.isEmpty() ? id : prompt) : qs(r.title));
  const QString created = metaString(r.meta, "created");
  row->setText(1, formatCreated(created.toStdString()));
  QString model;
  if (auto m = r.meta.find("model"); m != r.meta.end() && m->is_object())
    model = metaString(*m, "name");
  QStringList tip{tr("<b>%1</b>").arg(id.toHtmlEscaped())};
  if (!prompt.isEmpty()) tip << tr("Prompt: %1").arg(prompt.toHtmlEscaped());
  if (!model.isEmpty()) tip << tr("Model: %1").arg(model.toHtmlEscaped());
  if (!created.isEmpty()) tip << tr("Created: %1").arg(created);
  row->setToolTip(0, tip.join(QStringLiteral("<br>")));
  row->setToolTip(1, created);
  updateGroupText(g);
  g->setExpanded(true);
}

void ResultsBrowser::removeResult(const QString& id) {
  QTreeWidgetItem* row = item(id);
  if (!row) return;
  QTreeWidgetItem* g = row->parent();
  delete row;
  if (g->childCount() == 0)
    delete g;
  else
    updateGroupText(g);
}

void ResultsBrowser::clear() { tree_->clear(); }

QTreeWidgetItem* ResultsBrowser::item(const QString& id) const {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* g = tree_->topLevelItem(i);
    for (int j = 0; j < g->childCount(); ++j)
      if (g->child(j)->data(0, kIdRole).toString() == id) return g->child(j);
  }
  return nullptr;
}

void ResultsBrowser::select(const QString& id) {
  QTreeWidgetItem* row = id.isEmpty() ? nullptr : item(id);
  if (!row) {
    tree_->clearSelection();
    return;
  }
  tree_->setCurrentItem(row);
  tree_->scrollToItem(row);
}

QString ResultsBrowser::selectedId() const {
  const QList<QTreeWidgetItem*> rows = tree_->selectedItems();
  return rows.isEmpty() ? QString() : rows.front()->data(0, kIdRole).toString();
}

QStringList ResultsBrowser::ids() const {
  QStringList out;
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* g = tree_->topLevelItem(i);
    for (int j = 0; j < g->childCount(); ++j) out << g->child(j)->data(0, kIdRole).toString();
  }
  return out;
}

QMenu* ResultsBrowser::contextMenu(const QString& id) {
  auto* menu = new QMenu(this);
  menu->setObjectName("resultContextMenu");
  menu->addAction(tr("Export figure…"), this, [this, id] { emit exportRequested(id); });
  menu->addSeparator();
  menu->addAction(tr("Delete result"), this, [this, id] { emit deleteRequested(id); });
  return menu;
}

QString ResultsBrowser::formatCreated(const std::string& iso) {
  const QString text = qs(iso);
  QDateTime t = QDateTime::fromString(text, Qt::ISODate);
  if (!t.isValid()) return text;
  return t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

bool ResultsBrowser::eventFilter(QObject* watched, QEvent* event) {
  if (watched == tree_ && event->type() == QEvent::KeyPress) {
    const int key = static_cast<QKeyEvent*>(event)->key();
    if ((key == Qt::Key_Delete || key == Qt::Key_Backspace) && !selectedId().isEmpty()) {
      emit deleteRequested(selectedId());
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace mechscope
