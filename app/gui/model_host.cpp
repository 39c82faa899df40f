#include "app/gui/model_host.h"

#include <ATen/Parallel.h>

#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <filesystem>

#include "core/model/generate.h"
#include "core/model/vision.h"
#include "core/model/loader.h"
#include "core/model/model.h"
#include "core/sae/sae_hooks.h"
#include "core/sae/sae_io.h"
#include "core/util/cancel.h"
#include "core/util/error.h"
#include "probes/next_token.h"
#include "probes/result_meta.h"

namespace mechscope {
using namespace probes;  // next-token predictions, head scores
namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return QStringLiteral("float32");
    case at::kHalf:
      return QStringLiteral("float16");
    case at::kBFloat16:
      return QStringLiteral("bfloat16");
    default:
      return QString::fromLatin1(c10::toString(t));
  }
}

// Drops a trailing U+FFFD: it may be a multi-byte character whose last bytes are still to come.
std::string completePrefix(std::string text) {
  while (text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0)
    text.resize(text.size() - 3);
  return text;
}

// The text that `generated` adds after `prompt`. Decoding the continuation alone would lose the
// leading space of its first token (SentencePiece drops it at the start of a text), so decode
// prompt + continuation and remove the decoded prompt.
std::string continuationText(const Tokenizer& tok, const std::vector<int64_t>& prompt,
                             const std::string& decodedPrompt,
                             const std::vector<int64_t>& generated) {
  std::vector<int64_t> all = prompt;
  all.insert(all.end(), generated.begin(), generated.end());
  const std::string text = tok.decode(all, true);
  if (text.compare(0, decodedPrompt.size(), decodedPrompt) == 0)
    return text.substr(decodedPrompt.size());
  std::string joined;  // decoding merged across the boundary: fall back to the tokens' texts
  for (int64_t t : generated) joined += tok.token_text(t);
  return joined;
}

struct LoadedModel {
  std::shared_ptr<Model> model;
  nlohmann::json identity;
};

// A probe job's outcome: its Result, or nothing when it was cancelled.
struct ProbeOutcome {
  std::optional<Result> result;
};

struct GenerationResult {
  QString text;
  int generated = 0;
  bool cancelled = false;
};

}  // namespace

ModelHost::ModelHost(QObject* parent) : QObject(parent) {
  qRegisterMetaType<ModelSummary>();
  qRegisterMetaType<QVector<PredictionRow>>();
  qRegisterMetaType<Result>();
}

ModelHost::~ModelHost() {
  cancel();
  if (waitForJob_) waitForJob_();
}

const Tokenizer* ModelHost::tokenizer() const { return model_ ? model_->tokenizer() : nullptr; }

ModelSummary ModelHost::summary() const {
  ModelSummary s;
  if (!model_) return s;
  const ModelConfig& c = model_->config();
  s.path = qs(model_->source().path);
  s.format = qs(model_->source().format);
  s.family = qs(c.family);
  s.architecture = qs(c.architecture);
  s.device = qs(model_->device().str());
  s.dtype = dtypeName(model_->dtype());
  s.parameters = model_->parameter_count();
  s.layers = c.n_layers;
  s.heads = c.n_heads;
  s.kvHeads = c.n_kv_heads;
  s.dModel = c.d_model;
  s.dHead = c.d_head;
  s.dMlp = c.d_mlp;
  s.vocab = c.d_vocab;
  s.context = c.n_ctx;
  if (const VisionEncoder* v = model_->vision())
    s.imagePatchGrid = v->config().image_size / v->config().patch_size;
  s.hasTokenizer = model_->tokenizer() != nullptr;
  for (const std::string& step : model_->processing()) s.processing << qs(step);
  if (!model_->standing_description().empty()) {
    const auto d = nlohmann::json::parse(model_->standing_description(), nullptr, false);
    if (d.is_object()) {
      QString text = qs(d.value("sae", "")) + QStringLiteral(" → ") + qs(d.value("hook", ""));
      if (!d.value("replace", true)) text += tr(", activation kept");
      else if (d.value("error_term", false)) text += tr(", with error term");
      for (const auto& st : d.value("steer", nlohmann::json::array()))
        text += tr(", steer F%1 × %2").arg(st[0].get<qint64>()).arg(st[1].get<double>());
      s.splice = text;
    }
  }
  return s;
}

QVector<TokenChip> ModelHost::tokenize(const QString& prompt) const {
  QVector<TokenChip> chips;
  const Tokenizer* tok = tokenizer();
  if (tok == nullptr) return chips;
  try {
    const Encoding enc = tok->encode(prompt.toStdString(), true);
    for (size_t i = 0; i < enc.ids.size(); ++i) {
      TokenChip chip;
      chip.id = enc.ids[i];
      chip.text = qs(tok->token_text(enc.ids[i]));
      chip.special = i < enc.offsets.size() && enc.offsets[i].first == enc.offsets[i].second;
      if (model_ && model_->vision() && model_->image_token_id() == enc.ids[i])
        chip.image_patches = int(model_->vision()->tokens_per_image());
      chips.push_back(chip);
    }
  } catch (const std::exception&) {
    chips.clear();  // live display only; Run reports the error properly
  }
  return chips;
}

std::vector<int64_t> ModelHost::encode(const QString& prompt) const {
  if (!model_) throw Error("No model is open: open one with File → Open model folder….");
  if (tokenizer() == nullptr)
    throw Error("The model at " + model_->source().path +
                " has no tokenizer: reopen it with its tokenizer file.");
  std::vector<int64_t> ids = tokenizer()->encode(prompt.toStdString(), true).ids;
  if (ids.empty()) throw Error("The prompt encodes to no tokens: type some text first.");
  return ids;
}

template <typename T>
void ModelHost::runJob(const QString& title, std::function<T()> work, std::function<void(T)> done) {
  auto* watcher = new QFutureWatcher<Outcome<T>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, title, done] {
    Outcome<T> out = watcher->result();
    watcher->deleteLater();
    waitForJob_ = nullptr;
    generating_ = false;
    probing_ = false;
    setBusy(false);  // before `done`, so that its listeners may start the next job
    if (out.value)
      done(std::move(*out.value));
    else
      emit failed(title, out.error);
  });
  QFuture<Outcome<T>> future = QtConcurrent::run([work]() -> Outcome<T> {
    Outcome<T> out;
    try {
      at::init_num_threads();  // pool threads take the intra-op thread count set at startup
      out.value = work();
    } catch (const std::exception& e) {
      out.error = QString::fromUtf8(e.what());
    } catch (...) {
      out.error = QObject::tr("An unknown error occurred.");
    }
    return out;
  });
  waitForJob_ = [future]() mutable { future.waitForFinished(); };
  watcher->setFuture(future);
}

bool ModelHost::startJob() {
  if (busy_) return false;
  setBusy(true);
  return true;
}

void ModelHost::setBusy(bool busy) {
  if (busy_ == busy) return;
  busy_ = busy;
  emit busyChanged(busy);
}

void ModelHost::openModel(const QString& path, const QString& tokenizerPath) {
  if (!startJob()) return;
  emit loadStarted(path);
  LoadOptions options;
  if (!tokenizerPath.isEmpty()) options.tokenizer = tokenizerPath.toStdString();
  options.process = processing_;
  const std::string file = path.toStdString();
  const std::string tokenizer = tokenizerPath.toStdString();
  runJob<LoadedModel>(
      tr("Could not open the model"),
      [file, options, tokenizer] {
        LoadedModel loaded;
        loaded.model = std::shared_ptr<Model>(load_model(file, options));
        loaded.identity = probes::model_identity(*loaded.model);  // hashes the file: on the pool
        if (!tokenizer.empty())  // a llama2.c model is reopened with its tokenizer
          loaded.identity["tokenizer"] =
              std::filesystem::absolute(tokenizer).lexically_normal().string();
        return loaded;
      },
      [this](LoadedModel loaded) {
        model_ = std::move(loaded.model);
        identity_ = std::move(loaded.identity);
        emit modelLoaded(summary());
      });
}

bool ModelHost::spliceSae(const QString& folder, bool errorTerm, bool replace,
                          const std::vector<std::pair<int64_t, double>>& steer) {
  if (!model_ || !startJob()) return false;
  const std::string dir = folder.toStdString();
  runJob<std::shared_ptr<sae::Sae>>(
      tr("Could not splice the SAE"),
      [dir, model = model_]() -> std::shared_ptr<sae::Sae> {
        if (dir.empty()) return nullptr;
        auto loaded = std::make_shared<sae::Sae>(sae::load_sae(dir));
        sae::check_fits(*loaded, *model);
        loaded->to(model->device(), model->dtype());
        return loaded;
      },
      [this, dir, errorTerm, replace, steer](std::shared_ptr<sae::Sae> loaded) {
        sae::SpliceOptions options;
        options.error_term = errorTerm;
        options.replace = replace;
        options.steer = steer;
        // A new Model object sharing the weights (tensors are shared, not copied): whoever still
        // holds the old one (a training dialog, a view) keeps an unchanged model.
        auto spliced = std::make_shared<Model>(*model_);
        try {
          sae::splice_into(*spliced, loaded, options, dir);
        } catch (const std::exception& e) {
          emit failed(tr("Could not splice the SAE"), QString::fromUtf8(e.what()));
          return;
        }
        model_ = std::move(spliced);
        emit saeChanged(summary().splice);
      });
  return true;
}

void ModelHost::predict(const QString& prompt, int k, const RgbImage& image) {
  if (busy_) return;
  std::vector<int64_t> ids;
  try {
    ids = encode(prompt);
  } catch (const std::exception& e) {
    emit failed(tr("Cannot run"), QString::fromUtf8(e.what()));
    return;
  }
  startJob();
  std::shared_ptr<const Model> model = model_;
  runJob<QVector<PredictionRow>>(
      tr("The forward pass failed"),
      [model, ids, k, image] {
        QVector<PredictionRow> rows;
        for (const Prediction& p : top_predictions(*model, ids, k, image))
          rows.push_back({qs(p.text), p.token, p.probability, p.logit});
        return rows;
      },
      [this](QVector<PredictionRow> rows) { emit predictionsReady(rows); });
}

void ModelHost::generate(const QString& prompt, int maxNewTokens,
                         std::shared_ptr<const HookSet> hooks) {
  if (busy_) return;
  std::vector<int64_t> ids;
  try {
    ids = encode(prompt);
  } catch (const std::exception& e) {
    emit failed(tr("Cannot generate"), QString::fromUtf8(e.what()));
    return;
  }
  generating_ = true;  // before startJob(), so busyChanged listeners see it
  startJob();
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  emit generationStarted(maxNewTokens);
  std::shared_ptr<const Model> model = model_;
  auto cancelFlag = cancel_;
  runJob<GenerationResult>(
      tr("Generation failed"),
      [this, model, ids, maxNewTokens, cancelFlag, hooks] {
        const Tokenizer* tok = model->tokenizer();
        const std::string decodedPrompt = tok->decode(ids, true);
        std::vector<int64_t> generated;
        GenerateOptions options;
        options.max_new_tokens = maxNewTokens;  // greedy: temperature 0
        options.hooks = hooks.get();
        options.on_token = [&](int64_t token) {
          generated.push_back(token);
          const QString text =
              qs(completePrefix(continuationText(*tok, ids, decodedPrompt, generated)));
          const int count = int(generated.size());
          // Runs on the GUI thread, and only while this host is alive.
          QMetaObject::invokeMethod(
              this,
              [this, text, count, maxNewTokens] {
                emit generationProgress(text, count, maxNewTokens);
              },
              Qt::QueuedConnection);
          return !cancelFlag->load();
        };
        try {  // Cancel also stops a long forward pass (the prompt's) between blocks
          const CancelScope scope([cancelFlag] { return cancelFlag->load(); });
          mechscope::generate(*model, ids, options);
        } catch (const Cancelled&) {
        }
        GenerationResult r;
        r.text = qs(continuationText(*tok, ids, decodedPrompt, generated));
        r.generated = int(generated.size());
        r.cancelled = cancelFlag->load();
        return r;
      },
      [this](GenerationResult r) { emit generationFinished(r.text, r.generated, r.cancelled); });
}

bool ModelHost::runProbe(const QString& title, ProbeWork work) {
  if (busy_ || !model_) return false;
  probing_ = true;  // before startJob(), so busyChanged listeners see it
  startJob();
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  emit probeStarted(title);
  std::shared_ptr<const Model> model = model_;
  auto cancelFlag = cancel_;
  runJob<ProbeOutcome>(
      title,
      [this, model, work, cancelFlag] {
        auto lastPercent = std::make_shared<std::atomic<int>>(-1);
        const std::function<bool(double)> progress = [this, cancelFlag, lastPercent](double f) {
          const int percent = int(std::clamp(f, 0.0, 1.0) * 100.0 + 0.5);
          if (lastPercent->exchange(percent) != percent)  // the GUI hears only changes
            QMetaObject::invokeMethod(
                this, [this, percent] { emit probeProgress(percent); }, Qt::QueuedConnection);
          return !cancelFlag->load();
        };
        ProbeOutcome out;
        try {
          out.result = work(*model, progress);
        } catch (const Cancelled&) {
          return out;
        } catch (...) {
          if (cancelFlag->load()) return out;  // a probe may stop with its own exception
          throw;
        }
        if (cancelFlag->load()) out.result.reset();  // finished anyway, but the user said stop
        return out;
      },
      [this, title](ProbeOutcome out) {
        if (out.result)
          emit probeFinished(*out.result);
        else
          emit probeCancelled(title);
      });
  return true;
}

void ModelHost::cancel() {
  if (cancel_) cancel_->store(true);
}

}  // namespace mechscope
