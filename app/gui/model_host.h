#pragma once
// The GUI's one model and the background jobs that use it (load, predict, generate, probes). Jobs
// run on QtConcurrent's pool; every exception stops at the job boundary and comes back as failed().
// One job at a time: callers check busy() (the panels disable their buttons while busy).
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QVector>
#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/model/hooks.h"
#include "core/model/weight_processing.h"
#include <vector>

#include "core/session/result.h"
#include "core/image/image_file.h"
#include "views/predictions_view.h"
#include "views/token_chips.h"

namespace mechscope {

class Model;
class Tokenizer;

/// What the model panel shows about a loaded model.
struct ModelSummary {
  QString path, format, family, architecture, device, dtype;
  qint64 parameters = 0;
  qint64 layers = 0, heads = 0, kvHeads = 0, dModel = 0, dHead = 0, dMlp = 0, vocab = 0,
         context = 0;
  qint64 imagePatchGrid = 0;  ///< Patches per image side (vision-language models), else 0.
  bool hasTokenizer = false;
  QStringList processing;  ///< Weight-processing steps applied (fold_ln, …).
  /// The SAE spliced into every forward pass ("folder → hook, error term, steering"); empty: none.
  QString splice;
};

/// A probe job's work: runs on a pool thread with the open model. `progress(fraction)` (fraction in
/// [0, 1]) reports progress and returns false once cancel() was called; the work should then stop
/// by throwing mechscope::Cancelled (any exception thrown after a cancel counts as a cancel).
using ProbeWork =
    std::function<Result(const Model& model, const std::function<bool(double)>& progress)>;

class ModelHost : public QObject {
  Q_OBJECT

 public:
  explicit ModelHost(QObject* parent = nullptr);
  ~ModelHost() override;  // cancels and waits for a running job

  bool hasModel() const { return model_ != nullptr; }
  bool busy() const { return busy_; }
  bool generating() const { return generating_; }
  /// A probe job is running.
  bool probing() const { return probing_; }
  /// The running job stops when cancel() is called (a generation or a probe).
  bool cancellable() const { return generating_ || probing_; }
  std::shared_ptr<const Model> model() const { return model_; }
  const Tokenizer* tokenizer() const;
  ModelSummary summary() const;
  /// {"name", "path", "family", "hash"} of the open model (probes::model_identity, computed at
  /// load), plus "tokenizer" when it was opened with an explicit tokenizer file; {} without one.
  nlohmann::json identity() const { return identity_; }
  /// The prompt's token ids (BOS included when the tokenizer adds it). Throws mechscope::Error
  /// naming the problem: no model, no tokenizer, or a prompt that encodes to nothing.
  std::vector<int64_t> encode(const QString& prompt) const;
  /// The prompt's tokens as chips (with BOS as the tokenizer adds it); empty without a tokenizer.
  QVector<TokenChip> tokenize(const QString& prompt) const;

  /// Loads a model (HF folder or llama2.c .bin) in the background; `tokenizerPath` may be empty.
  void openModel(const QString& path, const QString& tokenizerPath = {});
  /// The weight processing the next openModel applies (TransformerLens semantics).
  void setProcessing(const WeightProcessing& processing) { processing_ = processing; }
  const WeightProcessing& processing() const { return processing_; }
  /// Top-k next-token predictions after `prompt`.
  void predict(const QString& prompt, int k = 10, const RgbImage& image = {});
  /// Greedy continuation of `maxNewTokens` tokens, streamed through generationProgress().
  /// `hooks` (optional) ride along every step: clamping, steering.
  void generate(const QString& prompt, int maxNewTokens,
                std::shared_ptr<const HookSet> hooks = nullptr);
  /// Runs a probe in the background: probeStarted(), probeProgress() while it runs, then
  /// probeFinished() with its Result, probeCancelled() after cancel(), or failed(title, message).
  /// Returns false (and does nothing) without a model or while another job runs.
  bool runProbe(const QString& title, ProbeWork work);
  /// Splices the SAE in `folder` (an SAELens folder) into every forward pass of the open model, so
  /// predictions, generation and every probe see the edited model (core/sae/sae_hooks.h); an
  /// empty `folder` removes the splice. The SAE loads in the background; then saeChanged() or
  /// failed() naming the folder and the problem (an SAE that does not fit the model, a missing
  /// steering feature). `steer`: (feature, scale) pairs. The spliced model is a new Model sharing
  /// the weights: holders of the old one (a training dialog) keep the unspliced model.
  /// Returns false without a model or while another job runs.
  bool spliceSae(const QString& folder, bool errorTerm, bool replace,
                 const std::vector<std::pair<int64_t, double>>& steer);
  /// Asks a running generation or probe to stop (after its current token / step).
  void cancel();

 signals:
  void busyChanged(bool busy);
  void loadStarted(const QString& path);
  void modelLoaded(const mechscope::ModelSummary& summary);
  void predictionsReady(const QVector<mechscope::PredictionRow>& rows);
  void generationStarted(int total);
  /// `continuation` is the decoded text of all tokens generated so far.
  void generationProgress(const QString& continuation, int generated, int total);
  void generationFinished(const QString& continuation, int generated, bool cancelled);
  /// The splice changed; `description` as ModelSummary::splice (empty: removed).
  void saeChanged(const QString& description);
  void probeStarted(const QString& title);
  /// `percent` in [0, 100]; emitted when it changes.
  void probeProgress(int percent);
  void probeFinished(const mechscope::Result& result);
  void probeCancelled(const QString& title);
  /// A job failed; `message` is the error's own sentence.
  void failed(const QString& title, const QString& message);

 private:
  /// Outcome of a background job: a value or the error message it threw.
  template <typename T>
  struct Outcome {
    std::optional<T> value;
    QString error;
  };
  /// Runs `work` on the pool and `done` on this thread; `title` names failures.
  template <typename T>
  void runJob(const QString& title, std::function<T()> work, std::function<void(T)> done);
  bool startJob();
  void setBusy(bool busy);

  std::shared_ptr<Model> model_;
  WeightProcessing processing_;
  nlohmann::json identity_ = nlohmann::json::object();
  bool busy_ = false;
  bool generating_ = false;
  bool probing_ = false;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::function<void()> waitForJob_;  // blocks until the running job's future finishes
};

}  // namespace mechscope

Q_DECLARE_METATYPE(mechscope::ModelSummary)
Q_DECLARE_METATYPE(mechscope::Result)
