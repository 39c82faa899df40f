// sae_circuit: discrete-SAE circuit finding (O'Neill & Bui 2024). Every head's output
// (hook_result, mean-pooled over the positions) on positive prompts (the model performs the task)
// and matched negative prompts (it cannot) trains one small SAE; each (example, head) becomes the
// code of its largest latent; a head scores by the codes it shows on positives and never on
// negatives (softmaxed over heads), a sender → receiver pair by such code pairs. The ROC-AUC
// against the heads activation patching finds on the same examples is recorded.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/circuit_codes.h"
#include "probes/discrete_sae.h"
#include "probes/metric.h"
#include "probes/patching.h"
#include "probes/result_meta.h"
#include "probes/roc.h"
#include "probes/tasks/task.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

using Clock = std::chrono::steady_clock;

/// The tasks whose corrupted prompt makes the task unsolvable: their negatives.
struct TaskNegatives {
  const char* task;
  const char* negative;  ///< What the negative prompt is.
  bool any_later_year;   ///< greater_than: solved = the prediction is any valid year.
};

const std::vector<TaskNegatives>& negatives_table() {
  static const std::vector<TaskNegatives> table = {
      {"ioi",
       "the ABC prompt: the second mention of the subject replaced by a third name, so no name "
       "is repeated and nothing marks the indirect object",
       false},
      {"greater_than", "the start year 01: every later year is valid, nothing depends on XX", true},
      {"induction",
       "the first copy replaced by other random tokens (none of the clean sequence): nothing can "
       "be copied",
       false},
  };
  return table;
}

std::vector<std::string> supported_tasks() {
  std::vector<std::string> out;
  for (const auto& t : negatives_table()) out.push_back(t.task);
  return out;
}

const TaskNegatives& task_negatives(const std::string& task) {
  for (const auto& t : negatives_table())
    if (task == t.task) return t;
  std::string known;
  for (const auto& n : supported_tasks()) known += (known.empty() ? "" : ", ") + n;
  throw Error(
      "sae_circuit needs a task whose corrupted prompt makes the task unsolvable (the "
      "negative examples); '" +
      task +
      "' has none (its corrupted prompt is another "
      "solvable instance, or it is no task). Choose one of " +
      known + ".");
}

/// One positive example and its negative.
struct Pair {
  std::vector<int64_t> clean, corrupt;
  int64_t answer = -1, wrong = -1;
};

/// Rows of `prompts` right-padded into [batch, pos] with a 0/1 mask of the real tokens.
std::pair<at::Tensor, at::Tensor> padded(const std::vector<const std::vector<int64_t>*>& prompts,
                                         const Model& model) {
  int64_t T = 0;
  for (const auto* p : prompts) T = std::max<int64_t>(T, int64_t(p->size()));
  const int64_t B = int64_t(prompts.size());
  std::vector<int64_t> ids(size_t(B * T), 0), mask(size_t(B * T), 0);
  for (int64_t b = 0; b < B; ++b)
    for (size_t i = 0; i < prompts[b]->size(); ++i) {
      ids[size_t(b * T) + i] = (*prompts[b])[i];
      mask[size_t(b * T) + i] = 1;
    }
  const auto dev = at::TensorOptions().dtype(at::kLong);
  return {at::tensor(ids, dev).view({B, T}).to(model.device()),
          at::tensor(mask, dev).view({B, T}).to(model.device())};
}

/// Batched forward passes of `prompts` (kChunk at a time): every head's hook_result mean-pooled
/// over each prompt's real positions (BOS included, as the paper pools every position) →
/// [batch, layers, heads, d_model] (CPU float), and the last real position's logits →
/// [batch, d_vocab].
std::pair<at::Tensor, at::Tensor> pooled_heads(
    const Model& model, const std::vector<const std::vector<int64_t>*>& prompts) {
  constexpr size_t kChunk = 32;
  const int L = model.config().n_layers;
  std::vector<at::Tensor> acts, last_logits;
  for (size_t c0 = 0; c0 < prompts.size(); c0 += kChunk) {
    const auto first = prompts.begin() + static_cast<std::ptrdiff_t>(c0);
    const std::vector<const std::vector<int64_t>*> chunk(
        first, first + static_cast<std::ptrdiff_t>(std::min(kChunk, prompts.size() - c0)));
    const auto [tokens, mask] = padded(chunk, model);
    const at::Tensor m = mask.to(at::kFloat);
    const at::Tensor lengths = m.sum(1);  // [B]
    std::vector<at::Tensor> pooled(static_cast<size_t>(L));
    HookSet hooks;
    hooks.add(HookKind::Result, HookSet::kEveryLayer, [&](HookCall& h) {
      const at::Tensor v = h.value.to(at::kFloat);  // [B, T, H, D]
      pooled[size_t(h.layer)] =
          (v * m.view({m.size(0), m.size(1), 1, 1})).sum(1) / lengths.view({-1, 1, 1});
    });
    const ForwardOutput out = model.run(tokens, mask, &hooks);
    const at::Tensor last = (lengths - 1).to(at::kLong).view({-1, 1, 1});
    last_logits.push_back(
        out.logits.gather(1, last.expand({-1, 1, out.logits.size(2)})).squeeze(1).to(at::kCPU));
    acts.push_back(at::stack(pooled, 1).to(at::kCPU));
  }
  return {at::cat(acts), at::cat(last_logits).to(at::kFloat)};
}

std::vector<int64_t> encode_words(const Tokenizer& tok, const std::vector<std::string>& words,
                                  const std::string& task) {
  std::vector<int64_t> ids;
  for (const auto& w : words) {
    const auto id = tok.token_to_id(w);
    if (!id)
      throw Error("The word '" + w + "' of the task '" + task +
                  "' is not a token of this model: "
                  "task examples need one of mechscope's word-level models (data/models).");
    ids.push_back(*id);
  }
  return ids;
}

struct Examples {
  std::vector<Pair> pairs;
  at::Tensor positive, negative;  // [E, layers, heads, d_model] pooled head outputs
  int64_t drawn = 0;
};

/// Draws examples of `task` (seeded as tasks::generate) until `wanted` are solved by the model —
/// its greedy next token is the answer (greater_than: any later year) — or 8 × wanted are drawn;
/// keeps their pooled head outputs and those of their negatives. Throws when none is solved.
Examples draw_examples(const Model& model, const std::string& task, int64_t wanted, uint64_t seed,
                       const Progress& progress, double lo, double hi) {
  const TaskNegatives& spec = task_negatives(task);
  const Tokenizer* tok = model.tokenizer();
  if (tok == nullptr) throw Error("Task examples need a model with a tokenizer.");
  const auto t = tasks::make_task(task);
  tasks::TaskOptions topt;
  topt.max_words = std::min<int64_t>(topt.max_words, model.config().n_ctx - 1);
  const auto bos = model.config().bos_token_id;
  const int64_t cap = 8 * wanted;
  const auto all = tasks::generate(*t, seed, cap, topt);

  Examples out;
  std::vector<at::Tensor> kept;
  int64_t next = 0;
  while (int64_t(out.pairs.size()) < wanted && next < cap) {
    const int64_t n = std::min(cap - next, wanted - int64_t(out.pairs.size()));
    std::vector<Pair> round;
    for (int64_t i = next; i < next + n; ++i) {
      const tasks::Example& ex = all[size_t(i)];
      Pair p;
      if (bos) p.clean.push_back(*bos), p.corrupt.push_back(*bos);
      const auto clean = encode_words(*tok, ex.prompt, task);
      const auto corrupt = encode_words(*tok, ex.corrupt, task);
      if (clean.size() != corrupt.size())
        throw Error("A '" + task +
                    "' example's corrupted prompt has another length than its "
                    "prompt; negatives must be matched word for word.");
      p.clean.insert(p.clean.end(), clean.begin(), clean.end());
      p.corrupt.insert(p.corrupt.end(), corrupt.begin(), corrupt.end());
      p.answer = encode_words(*tok, {ex.answer.at(0)}, task).front();
      p.wrong = encode_words(*tok, {ex.corrupt_answer.at(0)}, task).front();
      round.push_back(std::move(p));
    }
    std::vector<const std::vector<int64_t>*> prompts;
    for (const Pair& p : round) prompts.push_back(&p.clean);
    const auto [acts, logits] = pooled_heads(model, prompts);
    const at::Tensor predicted = logits.argmax(-1);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t top = predicted[i].item<int64_t>();
      bool solved = top == round[size_t(i)].answer;
      if (spec.any_later_year) {
        std::set<int64_t> valid;
        for (const auto& w : all[size_t(next + i)].meta.at("valid_answers"))
          if (const auto id = tok->token_to_id(w.get<std::string>())) valid.insert(*id);
        solved = valid.count(top) > 0;
        // The logit difference is measured for the year the model itself prefers.
        if (solved) round[size_t(i)].answer = top;
      }
      if (!solved) continue;
      out.pairs.push_back(std::move(round[size_t(i)]));
      kept.push_back(acts[i]);
    }
    next += n;
    report(progress, lo + (hi - lo) * 0.8 * double(next) / double(cap));
  }
  out.drawn = next;
  if (out.pairs.empty()) {
    std::string known;
    for (const auto& n : supported_tasks()) known += (known.empty() ? "" : ", ") + n;
    throw Error("The model solves none of the " + std::to_string(next) + " examples of '" + task +
                "' drawn: there are no positive examples to find a circuit with (the tasks are " +
                known + "; choose one the model performs).");
  }
  std::vector<const std::vector<int64_t>*> negatives;
  for (const Pair& p : out.pairs) negatives.push_back(&p.corrupt);
  out.positive = at::stack(kept);
  out.negative = pooled_heads(model, negatives).first;
  report(progress, hi);
  return out;
}

/// [E, layers, heads] codes → codes[example][flat head].
CodeTable code_table(const std::vector<int64_t>& codes, int64_t examples, int64_t heads) {
  CodeTable t(static_cast<size_t>(examples), std::vector<int64_t>(static_cast<size_t>(heads)));
  for (int64_t e = 0; e < examples; ++e)
    for (int64_t h = 0; h < heads; ++h) t[size_t(e)][size_t(h)] = codes[size_t(e * heads + h)];
  return t;
}

std::string head_name(int64_t layer, int64_t head) {
  return "L" + std::to_string(layer) + "H" + std::to_string(head);
}

/// An AUC as JSON: null when undefined (no positive or no negative label).
nlohmann::json auc_json(double auc) {
  return std::isnan(auc) ? nlohmann::json() : nlohmann::json(auc);
}

Array roc_array(const std::vector<std::pair<double, double>>& points) {
  std::vector<float> data;
  for (const auto& [fpr, tpr] : points) data.push_back(float(fpr)), data.push_back(float(tpr));
  Array a;
  a.shape = {int64_t(points.size()), 2};
  a.data = std::move(data);
  a.axes = {{"point", index_labels("", int64_t(points.size()))}, {"axis", {"fpr", "tpr"}}};
  return a;
}

Result run(const Model& model, const ProbeInputs&, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const std::string task = options.string("task");
  const TaskNegatives& spec = task_negatives(task);
  const int64_t L = c.n_layers, H = c.n_heads, N = L * H;
  const uint64_t seed = uint64_t(options.integer("seed"));
  const double threshold = options.number("truth_threshold");

  // The SAE method: examples, pooled head outputs, the SAE, codes and scores.
  const auto t0 = Clock::now();
  const Examples ex =
      draw_examples(model, task, options.integer("examples"), seed, progress, 0.0, 0.05);
  const int64_t E = int64_t(ex.pairs.size());
  const at::Tensor rows = at::cat({ex.positive, ex.negative}).reshape({2 * E * N, -1});
  DiscreteSaeOptions so;
  so.latents = options.integer("latents");
  so.l1 = options.number("l1");
  so.epochs = options.integer("epochs");
  so.lr = options.number("lr");
  so.seed = seed;
  so.normalize = options.boolean("normalize");
  const DiscreteSaeFit fit = train_discrete_sae(rows, so, progress, 0.05, 0.35);
  const std::vector<int64_t> codes = sae_codes(fit.sae, rows);  // [2E · N]
  const std::vector<int64_t> pos_codes(codes.begin(), codes.begin() + E * N);
  const std::vector<int64_t> neg_codes(codes.begin() + E * N, codes.end());
  const CodeTable positive = code_table(pos_codes, E, N), negative = code_table(neg_codes, E, N);
  const std::vector<int64_t> head_count = head_code_counts(positive, negative);
  std::vector<int64_t> head_layer(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) head_layer[size_t(i)] = i / H;
  const std::vector<int64_t> edge_count = edge_code_counts(positive, negative, head_layer);
  const std::vector<double> head_score =
      softmax(std::vector<double>(head_count.begin(), head_count.end()));
  const double seconds_sae = std::chrono::duration<double>(Clock::now() - t0).count();

  // The ground truth: activation patching of each head's z (clean into the negative prompt),
  // the logit difference answer − wrong summed over the examples and normalised by the summed
  // clean and corrupted ones — (Σ LD_patched − Σ LD_corrupted) / (Σ LD_clean − Σ LD_corrupted):
  // the normalised metric of the examples' mean, so an example whose clean and corrupted logit
  // differences nearly agree cannot dominate it.
  const auto t1 = Clock::now();
  at::Tensor patched = at::zeros({L, H}, at::kDouble);
  double clean_sum = 0, corrupted_sum = 0;
  for (int64_t e = 0; e < E; ++e) {
    const Pair& p = ex.pairs[size_t(e)];
    ProbeInputs in;
    in.answer_id = p.answer;
    in.wrong_id = p.wrong;
    Metric metric("logit_diff", in);
    const double lo = 0.35 + 0.65 * double(e) / double(E),
                 hi = 0.35 + 0.65 * double(e + 1) / double(E);
    const SweepResult sweep = activation_patching_sweep(model, p.clean, p.corrupt, Target::Z, false,
                                                        metric, 1, progress, lo, hi);
    patched += sweep.effect.to(at::kCPU).to(at::kDouble);
    clean_sum += metric.clean_raw();
    corrupted_sum += metric.corrupted_raw();
  }
  if (clean_sum == corrupted_sum)
    throw Error("The logit difference of the '" + task +
                "' examples is the same on their "
                "positive and negative prompts: there is nothing to normalise the patching "
                "effects by (try another seed).");
  const at::Tensor effect = (patched - corrupted_sum) / (clean_sum - corrupted_sum);
  const double seconds_patching = std::chrono::duration<double>(Clock::now() - t1).count();

  // Truth heads and pairs; AUCs and ROC curves.
  std::vector<bool> truth(static_cast<size_t>(N));
  nlohmann::json truth_heads = nlohmann::json::array();
  for (int64_t i = 0; i < N; ++i) {
    truth[size_t(i)] = std::abs(effect[i / H][i % H].item<double>()) > threshold;
    if (truth[size_t(i)]) truth_heads.push_back(head_name(i / H, i % H));
  }
  const std::vector<double> node_scores(head_score.begin(), head_score.end());
  const double auc = roc_auc(node_scores, truth);
  std::vector<double> edge_scores;
  std::vector<bool> edge_truth;
  int64_t truth_pairs = 0;
  for (int64_t s = 0; s < N; ++s)
    for (int64_t r = 0; r < N; ++r) {
      if (head_layer[size_t(s)] >= head_layer[size_t(r)]) continue;
      edge_scores.push_back(double(edge_count[size_t(s * N + r)]));
      edge_truth.push_back(truth[size_t(s)] && truth[size_t(r)]);
      truth_pairs += edge_truth.back() ? 1 : 0;
    }
  const double edge_auc = roc_auc(edge_scores, edge_truth);

  const Axis layer{"layer", index_labels("L", L)}, head{"head", index_labels("H", H)};
  auto to_tensor = [](const auto& v) {
    std::vector<double> d(v.begin(), v.end());
    return at::tensor(d, at::kDouble);
  };
  Result r;
  r.title = "SAE circuit — " + task + " (" + std::to_string(E) + " examples)";
  r.arrays["head_score"] = to_array(to_tensor(head_score).view({L, H}), {layer, head});
  r.arrays["head_count"] = to_array(to_tensor(head_count).view({L, H}), {layer, head});
  r.arrays["edge_score"] =
      to_array(to_tensor(edge_count).view({L, H, L, H}), {{"sender_layer", index_labels("L", L)},
                                                          {"sender_head", index_labels("H", H)},
                                                          {"receiver_layer", index_labels("L", L)},
                                                          {"receiver_head", index_labels("H", H)}});
  r.arrays["truth_effect"] = to_array(effect, {layer, head});
  // A curve exists when the truth has both classes (the AUC is null otherwise).
  if (!std::isnan(auc)) r.arrays["roc"] = roc_array(roc_curve(node_scores, truth));
  if (!std::isnan(edge_auc)) r.arrays["edge_roc"] = roc_array(roc_curve(edge_scores, edge_truth));
  r.arrays["code"] = to_array(
      at::cat({to_tensor(pos_codes).view({1, E, L, H}), to_tensor(neg_codes).view({1, E, L, H})})
          .transpose(0, 1),
      {{"example", index_labels("", E)}, {"set", {"positive", "negative"}}, layer, head});
  std::set<int64_t> distinct(codes.begin(), codes.end());
  const double no_code =
      double(std::count(codes.begin(), codes.end(), int64_t(-1))) / double(codes.size());
  const double variance = (rows - rows.mean(0, true)).pow(2).mean().item<double>();
  r.meta = {{"task", task},
            {"negatives", spec.negative},
            {"examples", E},
            {"examples_drawn", ex.drawn},
            {"pooling", "mean of hook_result over every real position, BOS included"},
            {"truth",
             "heads whose normalised activation-patching effect (target z, clean into "
             "the negative prompt; logit differences summed over the examples) exceeds "
             "truth_threshold in absolute value"},
            {"truth_threshold", threshold},
            {"truth_heads", truth_heads},
            {"truth_pairs", truth_pairs},
            {"edge_truth",
             "a sender → receiver pair (sender in an earlier layer) is a truth "
             "pair when both heads are truth heads"},
            {"auc", auc_json(auc)},
            {"edge_auc", auc_json(edge_auc)},
            {"seconds_sae", seconds_sae},
            {"seconds_patching", seconds_patching},
            {"clean_logit_diff", clean_sum / double(E)},
            {"corrupted_logit_diff", corrupted_sum / double(E)},
            {"sae",
             {{"latents", so.latents},
              {"l1", so.l1},
              {"epochs", so.epochs},
              {"lr", so.lr},
              {"normalize", so.normalize},
              {"input_scale", fit.input_scale},
              {"loss", fit.loss},
              {"mse", fit.mse},
              {"mean_l1", fit.l1},
              {"input_mean_square", rows.pow(2).mean().item<double>()},
              {"explained_variance", variance > 0 ? 1 - fit.mse / variance : 1.0},
              {"distinct_codes", distinct.size()},
              {"no_code_fraction", no_code}}}};
  report(progress, 1);
  return r;
}

}  // namespace

std::shared_ptr<const Probe> sae_circuit_probe() {
  ProbeInfo info;
  info.name = "sae_circuit";
  info.title = "SAE circuit finding";
  info.description =
      "Discrete-SAE circuit finding (O'Neill & Bui 2024): one small SAE over every head's pooled "
      "output on a task's positive and negative prompts; heads (and head pairs) whose codes occur "
      "only on positives form the circuit, scored against activation patching (ROC-AUC).";
  using T = OptionSpec::Type;
  info.options = {
      {"task",
       T::String,
       "ioi",
       supported_tasks(),
       {},
       {},
       "the task; its negatives: ioi the ABC prompt, greater_than the start year 01, induction "
       "a first copy of other tokens"},
      {"examples",
       T::Integer,
       10,
       {},
       1.0,
       1000.0,
       "positive examples (each with its negative); drawn until the model solves this many"},
      {"latents", T::Integer, 200, {}, 2.0, 100000.0, "SAE latents"},
      {"l1", T::Number, 0.02, {}, 0.0, 100.0, "sparsity penalty λ on the mean L1 of the latents"},
      {"epochs", T::Integer, 500, {}, 1.0, 1000000.0, "full-batch Adam epochs"},
      {"lr", T::Number, 1e-3, {}, 1e-7, 1.0, "Adam learning rate"},
      {"normalize",
       T::Boolean,
       true,
       {},
       {},
       {},
       "scale the pooled head outputs by one constant to a mean L2 norm of √d_model before "
       "training (SAELens' expected_average_only_in), so l1 means the same on every model"},
      {"seed", T::Integer, 0, {}, 0.0, 2147483647.0, "seed of the examples and the SAE's weights"},
      {"truth_threshold",
       T::Number,
       0.1,
       {},
       -10.0,
       10.0,
       "ground truth: heads whose normalised patching effect exceeds this in absolute value"}};
  info.arrays = {
      {"head_score", {"layer", "head"}, "softmax over heads of head_count"},
      {"head_count", {"layer", "head"}, "codes a head shows on positives and never on negatives"},
      {"edge_score",
       {"sender_layer", "sender_head", "receiver_layer", "receiver_head"},
       "code pairs on positives never on negatives (sender in an earlier layer; 0 otherwise)"},
      {"truth_effect",
       {"layer", "head"},
       "normalised activation-patching effect of each head's z over the examples (the ground "
       "truth)"},
      {"roc",
       {"point", "axis"},
       "node ROC curve against the truth: (fpr, tpr) points (absent when every head or none "
       "is a truth head)"},
      {"edge_roc", {"point", "axis"}, "edge ROC curve against the truth pairs (when defined)"},
      {"code",
       {"example", "set", "layer", "head"},
       "each head's code (its largest latent; -1 when none fires) on positives and negatives"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
