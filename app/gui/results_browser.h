#pragma once
// The results browser: every Result of the session in a tree grouped by probe, each row showing
// its title and when it was made. Selecting a row shows that Result; the context menu exports its
// figure or deletes it.
#include <QWidget>
#include <string>

class QMenu;
class QTreeWidget;
class QTreeWidgetItem;

namespace mechscope {

struct Result;

class ResultsBrowser : public QWidget {
  Q_OBJECT

 public:
  explicit ResultsBrowser(QWidget* parent = nullptr);

  /// Adds a row for `result` under its probe's group (created when missing).
  void addResult(const Result& result);
  void removeResult(const QString& id);
  void clear();
  /// Selects (and scrolls to) the row of `id`; an empty or unknown id clears the selection.
  void select(const QString& id);
  /// The selected result's id, or empty.
  QString selectedId() const;
  /// Result ids in display order (groups in order of first appearance, rows by creation).
  QStringList ids() const;
  QTreeWidget* tree() const { return tree_; }
  /// The row of `id`, or nullptr.
  QTreeWidgetItem* item(const QString& id) const;
  /// The context menu of the row of `id` (for tests; the caller owns it).
  QMenu* contextMenu(const QString& id);

  /// "2026-11-27 09:15" in local time from ISO 8601 UTC; the text itself when it is not one.
  static QString formatCreated(const std::string& iso);

 signals:
  void selectionChanged(const QString& id);
  void exportRequested(const QString& id);
  void deleteRequested(const QString& id);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QTreeWidgetItem* group(const QString& probe);
  void updateGroupText(QTreeWidgetItem* group);

  QTreeWidget* tree_;
};

}  // namespace mechscope
