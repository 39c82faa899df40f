#pragma once
// The GUI's one model and the background jobs that use it (load, predict, generate). Jobs run on
// QtConcurrent's pool; every exception stops at the job boundary and comes back as failed().
// One job at a time: callers check busy() (the panels disable their buttons while busy).
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QVector>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

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
  bool hasTokenizer = false;
};

class ModelHost : public QObject {
  Q_OBJECT

 public:
  explicit ModelHost(QObject* parent = nullptr);
  ~ModelHost() override;  // cancels and waits for a running job

  bool hasModel() const { return model_ != nullptr; }
  bool busy() const { return busy_; }
  bool generating() const { return generating_; }
  std::shared_ptr<const Model> model() const { return model_; }
  const Tokenizer* tokenizer() const;
  ModelSummary summary() const;
  /// The prompt's tokens as chips (with BOS as the tokenizer adds it); empty without a tokenizer.
  QVector<TokenChip> tokenize(const QString& prompt) const;

  /// Loads a model (HF folder or llama2.c .bin) in the background; `tokenizerPath` may be empty.
  void openModel(const QString& path, const QString& tokenizerPath = {});
  /// Top-k next-token predictions after `prompt`.
  void predict(const QString& prompt, int k = 10);
  /// Greedy continuation of `maxNewTokens` tokens, streamed through generationProgress().
  void generate(const QString& prompt, int maxNewTokens);
  /// Asks a running generation to stop after its current token.
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
  std::vector<int64_t> encodePrompt(const QString& prompt) const;

  std::shared_ptr<Model> model_;
  bool busy_ = false;
  bool generating_ = false;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::function<void()> waitForJob_;  // blocks until the running job's future finishes
};

}  // namespace mechscope

Q_DECLARE_METATYPE(mechscope::ModelSummary)
