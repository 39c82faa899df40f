#pragma once
// Model ▸ Train SAE…: trains a sparse autoencoder on the open model's activations at a chosen hook
// point (probes/sae_train.h) on a pool thread, with the loss, L0, dead latents and ETA shown live,
// Cancel (which leaves a checkpoint that Train continues), and the held-out metrics at the end.
// The dialog is not modal: the workbench stays usable while it trains.
#include <QDialog>
#include <QFutureWatcher>
#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "probes/sae_train.h"

class QButtonGroup;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace mechscope {

class Model;
class ModelHost;

class SaeTrainDialog : public QDialog {
  Q_OBJECT

 public:
  /// `model` stays alive while a training runs; `identity` is its probes::model_identity.
  SaeTrainDialog(std::shared_ptr<const Model> model, nlohmann::json identity,
                 QWidget* parent = nullptr);
  ~SaeTrainDialog() override;  // cancels a running training and waits for it

  /// Opens a dialog (deleted on close) for the host's model; nullptr without one.
  static SaeTrainDialog* openFor(ModelHost* host, QWidget* parent);

  /// The options the widgets say (not validated).
  probes::SaeTrainOptions options() const;
  QString outputFolder() const;
  void setOutputFolder(const QString& folder);
  bool running() const { return running_; }
  /// The summary of the last finished training ("" before one).
  QString resultText() const;

 public slots:
  /// Starts training with the widgets' options; false (with the problem shown and failed()
  /// emitted) when they are invalid or a training runs.
  bool start();
  /// Asks a running training to stop; it writes a checkpoint first.
  void cancel();
  void reject() override;  // Close / Esc: cancels a running training first

 signals:
  void progressed(int step, int steps);
  /// Training finished; `folder` holds the SAE and training.json.
  void finished(const QString& folder);
  void cancelled(int step);
  void failed(const QString& message);

 private:
  struct Outcome {
    std::optional<probes::SaeTrainResult> result;
    QString error;
  };
  void updateEnabled();
  void showProgress(const probes::SaeTrainProgress& p);
  void done(const Outcome& outcome);
  void showProblem(const QString& message);

  std::shared_ptr<const Model> model_;
  nlohmann::json identity_;
  QComboBox* hook_;
  QRadioButton* fromTask_;
  QRadioButton* fromFile_;
  QComboBox* task_;
  QLineEdit* promptsFile_;
  QPushButton* browsePrompts_;
  QSpinBox* latents_;
  QComboBox* arch_;
  QSpinBox* k_;
  QDoubleSpinBox* l1_;
  QSpinBox* steps_;
  QSpinBox* seed_;
  QLineEdit* out_;
  QPushButton* browseOut_;
  QProgressBar* progress_;
  QLabel* status_;
  QLabel* result_;
  QLabel* problem_;
  QPushButton* train_;
  QPushButton* stop_;
  QPushButton* close_;
  QFutureWatcher<Outcome> watcher_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool running_ = false;
  bool closeWhenDone_ = false;
};

}  // namespace mechscope
