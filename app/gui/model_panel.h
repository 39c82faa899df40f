#pragma once
// The model side panel: open buttons, the recent-models list, and a summary of the open model.
#include <QWidget>

#include "app/gui/recent_models.h"
#include "core/model/weight_processing.h"

class QAction;
class QCheckBox;
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
  /// The models installed by `scripts/mechscope.sh models` (installed_models()); activating one
  /// opens it (recentActivated with no tokenizer).
  void setInstalled(const QStringList& paths);
  /// The text shown for a summary field ("family", "parameters", …), for tests.
  QString fieldText(const QString& field) const;
  static QString formatParameters(qint64 n);
  /// The weight processing chosen in the panel (applied when a model is opened).
  WeightProcessing processing() const;
  void setProcessing(const WeightProcessing& processing);

 public slots:
  void onLoadStarted(const QString& path);
  void onModelLoaded(const mechscope::ModelSummary& summary);
  void onLoadFailed();

 signals:
  void recentActivated(const QString& path, const QString& tokenizer);
  /// The user changed the weight processing (the window reopens the model with it).
  void processingChanged();

 private:
  void setField(const QString& field, const QString& text);

  QLabel* status_;
  QFormLayout* form_;
  QListWidget* recent_;
  QListWidget* installed_ = nullptr;
  QVector<RecentModel> recentModels_;
  QCheckBox* foldLn_;
  QCheckBox* centerWriting_;
  QCheckBox* centerUnembed_;
  QCheckBox* foldValueBiases_;
};

}  // namespace mechscope
