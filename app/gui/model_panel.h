#pragma once
// The model side panel: open buttons, the recent-models list, and a summary of the open model.
#include <QWidget>

#include "app/gui/recent_models.h"

class QAction;
class QFormLayout;
class QLabel;
class QListWidget;

namespace mechscope {

struct ModelSummary;

class ModelPanel : public QWidget {
  Q_OBJECT

 public:
  /// The buttons trigger the window's open actions.
  ModelPanel(QAction* openFolder, QAction* openFile, QWidget* parent = nullptr);

  void setRecent(const QVector<RecentModel>& recent);
  /// The text shown for a summary field ("family", "parameters", …), for tests.
  QString fieldText(const QString& field) const;
  static QString formatParameters(qint64 n);

 public slots:
  void onLoadStarted(const QString& path);
  void onModelLoaded(const mechscope::ModelSummary& summary);
  void onLoadFailed();

 signals:
  void recentActivated(const QString& path, const QString& tokenizer);

 private:
  void setField(const QString& field, const QString& text);

  QLabel* status_;
  QFormLayout* form_;
  QListWidget* recent_;
  QVector<RecentModel> recentModels_;
};

}  // namespace mechscope
