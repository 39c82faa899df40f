#include "app/gui/sae_train_dialog.h"

#include <ATen/Parallel.h>

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QComboBox>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <chrono>

#include "app/gui/model_host.h"
#include "core/model/model.h"
#include "core/util/cancel.h"
#include "core/util/error.h"
#include "probes/sae_activations.h"
#include "probes/tasks/task.h"

namespace mechscope {
namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString clockText(double seconds) {
  const int s = int(seconds + 0.5);
  return QStringLiteral("%1:%2:%3")
      .arg(s / 3600)
      .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
      .arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace

SaeTrainDialog::SaeTrainDialog(std::shared_ptr<const Model> model, nlohmann::json identity,
                               QWidget* parent)
    : QDialog(parent), model_(std::move(model)), identity_(std::move(identity)) {
  setObjectName("saeTrainDialog");
  setWindowTitle(tr("Train SAE"));
  const probes::SaeTrainOptions defaults;
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;

  hook_ = new QComboBox(this);
  hook_->setObjectName("saeHook");
  hook_->setToolTip(tr("The hook point whose activations the SAE reconstructs"));
  for (const std::string& name : probes::sae_hook_names(*model_)) hook_->addItem(qs(name));
  const int middle = int(model_->config().n_layers / 2);
  const int preferred = hook_->findText(QStringLiteral("blocks.%1.hook_resid_pre").arg(middle));
  if (preferred >= 0) hook_->setCurrentIndex(preferred);
  form->addRow(tr("Hook point"), hook_);

  fromTask_ = new QRadioButton(tr("Task examples"), this);
  fromTask_->setObjectName("saeFromTask");
  task_ = new QComboBox(this);
  task_->setObjectName("saeTask");
  QStringList textTasks;
  for (const std::string& name : tasks::task_names())
    if (name != "shapes_vqa") textTasks << qs(name);
  task_->addItem(tr("all text tasks"), textTasks.join(','));
  for (const QString& name : textTasks) task_->addItem(name, name);
  auto* taskRow = new QHBoxLayout;
  taskRow->addWidget(fromTask_);
  taskRow->addWidget(task_, 1);
  fromFile_ = new QRadioButton(tr("Prompts file"), this);
  fromFile_->setObjectName("saeFromFile");
  promptsFile_ = new QLineEdit(this);
  promptsFile_->setObjectName("saePromptsFile");
  promptsFile_->setPlaceholderText(tr("a text file, one prompt per line"));
  browsePrompts_ = new QPushButton(tr("Browse…"), this);
  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(fromFile_);
  fileRow->addWidget(promptsFile_, 1);
  fileRow->addWidget(browsePrompts_);
  auto* source = new QVBoxLayout;
  source->addLayout(taskRow);
  source->addLayout(fileRow);
  form->addRow(tr("Training text"), source);
  fromTask_->setChecked(true);

  latents_ = new QSpinBox(this);
  latents_->setObjectName("saeLatents");
  latents_->setRange(1, 1 << 20);
  // Four latents per activation dimension of the chosen hook point.
  const int64_t width =
      hook_->count() > 0 ? probes::sae_hook_width(*model_, hook_->currentText().toStdString()) : 256;
  latents_->setValue(int(std::min<int64_t>(1 << 20, 4 * width)));
  form->addRow(tr("Latents"), latents_);
  arch_ = new QComboBox(this);
  arch_->setObjectName("saeArch");
  arch_->addItem(tr("relu (standard, L1 penalty)"), QStringLiteral("relu"));
  arch_->addItem(tr("topk"), QStringLiteral("topk"));
  form->addRow(tr("Architecture"), arch_);
  k_ = new QSpinBox(this);
  k_->setObjectName("saeK");
  k_->setRange(0, 1 << 20);
  k_->setSpecialValueText(tr("auto (latents / 8, 1…64)"));
  form->addRow(tr("k (topk)"), k_);
  l1_ = new QDoubleSpinBox(this);
  l1_->setObjectName("saeL1");
  l1_->setRange(0, 1000);
  l1_->setDecimals(3);
  l1_->setSingleStep(0.1);
  l1_->setValue(defaults.l1);
  l1_->setToolTip(tr("Sparsity coefficient λ (activations are scaled to mean norm √d_in)"));
  form->addRow(tr("L1 coefficient (relu)"), l1_);
  steps_ = new QSpinBox(this);
  steps_->setObjectName("saeSteps");
  steps_->setRange(1, 100000000);
  steps_->setValue(int(defaults.steps));
  steps_->setToolTip(tr("Steps of %1 token vectors each").arg(defaults.batch_size));
  form->addRow(tr("Steps"), steps_);
  seed_ = new QSpinBox(this);
  seed_->setObjectName("saeSeed");
  seed_->setRange(0, 1 << 30);
  seed_->setValue(int(defaults.seed));
  form->addRow(tr("Seed"), seed_);
  out_ = new QLineEdit(this);
  out_->setObjectName("saeOut");
  out_->setPlaceholderText(tr("folder for cfg.json, sae_weights.safetensors, training.json"));
  browseOut_ = new QPushButton(tr("Browse…"), this);
  auto* outRow = new QHBoxLayout;
  outRow->addWidget(out_, 1);
  outRow->addWidget(browseOut_);
  form->addRow(tr("Output folder"), outRow);
  layout->addLayout(form);

  progress_ = new QProgressBar(this);
  progress_->setObjectName("saeProgress");
  progress_->setRange(0, 1);
  progress_->setValue(0);
  layout->addWidget(progress_);
  status_ = new QLabel(this);
  status_->setObjectName("saeStatus");
  status_->setWordWrap(true);
  layout->addWidget(status_);
  result_ = new QLabel(this);
  result_->setObjectName("saeResult");
  result_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  result_->setWordWrap(true);
  layout->addWidget(result_);
  problem_ = new QLabel(this);
  problem_->setObjectName("saeProblem");
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QStringLiteral("color: #b00020"));
  layout->addWidget(problem_);

  auto* buttons = new QDialogButtonBox(this);
  train_ = buttons->addButton(tr("Train"), QDialogButtonBox::AcceptRole);
  train_->setObjectName("saeTrain");
  train_->setToolTip(tr("Train (continues the output folder's checkpoint of the same options)"));
  stop_ = buttons->addButton(tr("Cancel training"), QDialogButtonBox::ActionRole);
  stop_->setObjectName("saeCancel");
  close_ = buttons->addButton(QDialogButtonBox::Close);
  layout->addWidget(buttons);
  connect(train_, &QPushButton::clicked, this, [this] { start(); });
  connect(stop_, &QPushButton::clicked, this, &SaeTrainDialog::cancel);
  connect(close_, &QPushButton::clicked, this, &SaeTrainDialog::reject);
  connect(arch_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { updateEnabled(); });
  connect(fromTask_, &QRadioButton::toggled, this, [this] { updateEnabled(); });
  connect(browsePrompts_, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Prompts file"), promptsFile_->text());
    if (!file.isEmpty()) {
      promptsFile_->setText(file);
      fromFile_->setChecked(true);
    }
  });
  connect(browseOut_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Output folder"), out_->text());
    if (!dir.isEmpty()) out_->setText(dir);
  });
  connect(&watcher_, &QFutureWatcherBase::finished, this, [this] { done(watcher_.result()); });
  updateEnabled();
}

SaeTrainDialog::~SaeTrainDialog() {
  if (cancel_) cancel_->store(true);
  watcher_.waitForFinished();
}

SaeTrainDialog* SaeTrainDialog::openFor(ModelHost* host, QWidget* parent) {
  if (host == nullptr || !host->hasModel()) return nullptr;
  auto* dialog = new SaeTrainDialog(host->model(), host->identity(), parent);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  dialog->show();
  return dialog;
}

probes::SaeTrainOptions SaeTrainDialog::options() const {
  probes::SaeTrainOptions o;
  o.hook = hook_->currentText().toStdString();
  if (fromTask_->isChecked())
    o.task = task_->currentData().toString().toStdString();
  else
    o.prompts = promptsFile_->text().trimmed().toStdString();
  o.latents = latents_->value();
  o.architecture = arch_->currentData().toString() == QLatin1String("topk")
                       ? sae::Architecture::TopK
                       : sae::Architecture::Standard;
  o.k = o.architecture == sae::Architecture::TopK ? k_->value() : 0;
  o.l1 = l1_->value();
  o.steps = steps_->value();
  o.seed = uint64_t(seed_->value());
  return o;
}

QString SaeTrainDialog::outputFolder() const { return out_->text().trimmed(); }
void SaeTrainDialog::setOutputFolder(const QString& folder) { out_->setText(folder); }
QString SaeTrainDialog::resultText() const { return result_->text(); }

void SaeTrainDialog::updateEnabled() {
  const bool idle = !running_;
  const bool topk = arch_->currentData().toString() == QLatin1String("topk");
  for (QWidget* w : std::initializer_list<QWidget*>{hook_, fromTask_, fromFile_, latents_, arch_,
                                                    steps_, seed_, out_, browseOut_})
    w->setEnabled(idle);
  task_->setEnabled(idle && fromTask_->isChecked());
  promptsFile_->setEnabled(idle && !fromTask_->isChecked());
  browsePrompts_->setEnabled(idle);
  k_->setEnabled(idle && topk);
  l1_->setEnabled(idle && !topk);
  train_->setEnabled(idle);
  stop_->setEnabled(running_ && !(cancel_ && cancel_->load()));
}

void SaeTrainDialog::showProblem(const QString& message) {
  problem_->setText(message);
  emit failed(message);
}

bool SaeTrainDialog::start() {
  if (running_) return false;
  const probes::SaeTrainOptions o = options();
  const QString out = outputFolder();
  problem_->clear();
  try {
    if (out.isEmpty()) throw Error("Choose an output folder for the SAE.");
    o.validate();
  } catch (const std::exception& e) {
    showProblem(QString::fromUtf8(e.what()));
    return false;
  }
  running_ = true;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  result_->clear();
  progress_->setRange(0, int(o.steps));
  progress_->setValue(0);
  status_->setText(tr("Reading activations…"));
  updateEnabled();
  auto model = model_;
  auto identity = identity_;
  auto flag = cancel_;
  const std::string folder = out.toStdString();
  watcher_.setFuture(QtConcurrent::run([this, model, identity, flag, o, folder]() -> Outcome {
    Outcome outcome;
    try {
      at::init_num_threads();  // pool threads take the intra-op thread count set at startup
      const CancelScope scope([flag] { return flag->load(); });
      auto last = std::chrono::steady_clock::now() - std::chrono::seconds(1);
      outcome.result = probes::train_sae(
          *model, o, folder, false,
          [this, flag, &last](const probes::SaeTrainProgress& p) {
            // The GUI hears at most ~10 reports a second (and the last step's).
            const auto now = std::chrono::steady_clock::now();
            if (now - last >= std::chrono::milliseconds(100) || p.step == p.steps) {
              last = now;
              QMetaObject::invokeMethod(this, [this, p] { showProgress(p); }, Qt::QueuedConnection);
            }
            return !flag->load();
          },
          identity);
    } catch (const std::exception& e) {
      outcome.error = QString::fromUtf8(e.what());
    }
    return outcome;
  }));
  return true;
}

void SaeTrainDialog::cancel() {
  if (!running_ || !cancel_) return;
  cancel_->store(true);
  status_->setText(tr("Stopping (writing a checkpoint)…"));
  updateEnabled();
}

void SaeTrainDialog::reject() {
  if (running_) {
    closeWhenDone_ = true;
    cancel();
    return;
  }
  QDialog::reject();
}

void SaeTrainDialog::showProgress(const probes::SaeTrainProgress& p) {
  if (!running_ || (cancel_ && cancel_->load())) return;
  progress_->setValue(int(p.step));
  if (p.evaluating) {
    status_->setText(tr("Step %1/%2 done; measuring on held-out prompts…").arg(p.step).arg(p.steps));
  } else {
    status_->setText(tr("Step %1/%2 · loss %3 · explained variance %4 · L0 %5 · dead %6% · "
                        "elapsed %7 · ETA %8")
                         .arg(p.step)
                         .arg(p.steps)
                         .arg(p.loss, 0, 'f', 4)
                         .arg(p.explained_variance, 0, 'f', 3)
                         .arg(p.l0, 0, 'f', 1)
                         .arg(100 * p.dead_fraction, 0, 'f', 1)
                         .arg(clockText(p.elapsed_seconds), clockText(p.eta_seconds)));
  }
  emit progressed(int(p.step), int(p.steps));
}

void SaeTrainDialog::done(const Outcome& outcome) {
  running_ = false;
  const QString folder = outputFolder();
  if (!outcome.result) {
    status_->clear();
    showProblem(outcome.error);
  } else if (outcome.result->cancelled) {
    const int64_t step = outcome.result->steps_done;
    status_->setText(
        step > 0 ? tr("Cancelled at step %1; the checkpoint in %2 continues it (Train again).")
                       .arg(step)
                       .arg(folder)
                 : tr("Cancelled before the first step."));
    emit cancelled(int(step));
  } else {
    const probes::SaeTrainResult& r = *outcome.result;
    const probes::SaeMetrics& m = r.metrics;
    progress_->setValue(progress_->maximum());
    status_->setText(tr("Trained %1 steps in %2; wrote %3.")
                         .arg(r.steps_done)
                         .arg(clockText(r.seconds), folder));
    result_->setText(tr("Held-out (%1 prompts, %2 tokens): MSE %3 · explained variance %4 · L0 %5 "
                        "· dead latents %6%\nNext-token loss: clean %7 · SAE spliced %8 · "
                        "zero-ablated %9")
                         .arg(m.prompts)
                         .arg(m.tokens)
                         .arg(m.mse, 0, 'g', 4)
                         .arg(m.explained_variance, 0, 'f', 3)
                         .arg(m.l0, 0, 'f', 2)
                         .arg(100 * m.dead_fraction, 0, 'f', 1)
                         .arg(m.ce_loss_clean, 0, 'f', 4)
                         .arg(m.ce_loss_spliced, 0, 'f', 4)
                         .arg(m.ce_loss_zero_ablation, 0, 'f', 4));
    emit finished(folder);
  }
  updateEnabled();
  if (closeWhenDone_) {
    closeWhenDone_ = false;
    QDialog::reject();
  }
}

}  // namespace mechscope
