// head_masking: task accuracy with chosen heads masked (Wu et al.: uniform attention, or their
// output zeroed) against masking as many randomly drawn other heads.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <random>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/ablation.h"
#include "probes/builtin.h"
#include "probes/patching.h"
#include "probes/position_roles.h"
#include "probes/result_meta.h"
#include "probes/retrieval_heads.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

using Heads = std::vector<std::pair<int64_t, int64_t>>;

/// Share of `prompts` whose every answer word is the greedy prediction (teacher-forced: one
/// forward pass of prompt + answer[:-1] per example, the same verdict as greedy decoding).
double accuracy(const Model& model, const std::vector<TaskPrompt>& prompts, const HookSet* hooks) {
  int64_t right = 0;
  for (const TaskPrompt& p : prompts) {
    std::vector<int64_t> tokens = p.tokens;
    tokens.insert(tokens.end(), p.answer_ids.begin(), p.answer_ids.end() - 1);
    ProbeInputs with_image;
    with_image.image_rgb = p.image;
    const at::Tensor logits =
        run_tokens(model, prompt_tensor(model, tokens), prompt_pixels(model, with_image), hooks)
            .logits[0];
    const int64_t first = int64_t(p.tokens.size()) - 1, n = int64_t(p.answer_ids.size());
    const at::Tensor pred = logits.slice(0, first, first + n).argmax(-1).to(at::kCPU);
    right += at::equal(pred, at::tensor(p.answer_ids, at::kLong)) ? 1 : 0;
  }
  return prompts.empty() ? 0.0 : double(right) / double(prompts.size());
}

std::string head_list(const Heads& heads) {
  std::string s;
  for (const auto& [l, h] : heads) s += (s.empty() ? "" : ",") + ("L" + std::to_string(l) + "H" + std::to_string(h));
  return s;
}

void add_mask(HookSet& hooks, const Heads& heads, const std::string& mode) {
  if (mode == "uniform")
    add_uniform_attention(hooks, heads);
  else
    add_head_ablation(hooks, heads, AblationKind::Zero);
}

Result run(const Model& model, const ProbeInputs&, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const std::string spec = options.string("heads"), mode = options.string("mode");
  const std::string task = options.string("task");
  if (task.empty()) throw Error("head_masking measures a task's accuracy: give --option task=NAME.");
  const uint64_t seed = uint64_t(options.integer("seed"));
  Heads heads;
  nlohmann::json retrieval;
  if (spec.rfind("top_retrieval:", 0) == 0) {
    int64_t k = 0;
    try {
      k = std::stoll(spec.substr(14));
    } catch (const std::exception&) {
    }
    if (k < 1 || k > c.n_layers * c.n_heads)
      throw Error("top_retrieval:K needs 1 ≤ K ≤ " + std::to_string(c.n_layers * c.n_heads) + ".");
    RetrievalOptions ro;
    ro.seed = seed;
    const RetrievalScores s = retrieval_head_scores(
        model, ro, [&](double f) { return !progress || progress(0.5 * f); });
    const at::Tensor flat = s.score.reshape(-1);
    const at::Tensor order = flat.argsort(0, true);
    for (int64_t i = 0; i < k; ++i) {
      const int64_t idx = order[i].item<int64_t>();
      heads.push_back({idx / c.n_heads, idx % c.n_heads});
      retrieval.push_back(flat[idx].item<double>());
    }
  } else {
    for (const auto& [l, h] : parse_heads(model, spec)) heads.push_back({l, h});
  }
  if (heads.empty()) throw Error("Name the heads to mask (e.g. L1H2,L3H0 or top_retrieval:4).");
  const double lo = retrieval.empty() ? 0.0 : 0.5;
  const std::vector<TaskPrompt> prompts =
      task_prompts(model, task, options.integer("examples"), seed + 1);
  report(progress, lo);
  const int64_t draws = options.integer("random_draws");
  const double steps = double(2 + draws);
  const double clean = accuracy(model, prompts, nullptr);
  report(progress, lo + (1 - lo) / steps);
  HookSet masked_hooks;
  add_mask(masked_hooks, heads, mode);
  const double masked = accuracy(model, prompts, &masked_hooks);
  report(progress, lo + 2 * (1 - lo) / steps);
  Heads others;
  for (int64_t l = 0; l < c.n_layers; ++l)
    for (int64_t h = 0; h < c.n_heads; ++h)
      if (std::find(heads.begin(), heads.end(), std::pair{l, h}) == heads.end()) others.push_back({l, h});
  std::mt19937_64 rng(seed);
  std::vector<double> random;
  nlohmann::json random_sets = nlohmann::json::array();
  for (int64_t d = 0; d < draws && !others.empty(); ++d) {
    std::shuffle(others.begin(), others.end(), rng);
    const Heads pick(others.begin(), others.begin() + std::min(others.size(), heads.size()));
    HookSet hooks;
    add_mask(hooks, pick, mode);
    random.push_back(accuracy(model, prompts, &hooks));
    random_sets.push_back(head_list(pick));
    report(progress, lo + double(3 + d) * (1 - lo) / steps);
  }
  double mean = 0;
  for (double a : random) mean += a / double(std::max<size_t>(1, random.size()));
  Result r;
  r.title = "Head masking (" + mode + ") — " + task + ": " + head_list(heads);
  r.arrays["accuracy"] = to_array(at::tensor(std::vector<double>{clean, masked, mean}, at::kDouble),
                                  {{"condition", {"none", "masked", "random"}}});
  r.arrays["random_accuracy"] = to_array(at::tensor(random, at::kDouble),
                                         {{"draw", index_labels("", int64_t(random.size()))}});
  nlohmann::json names = nlohmann::json::array();
  for (const auto& h : heads) names.push_back(head_list({h}));
  r.meta = {{"heads", names},
            {"mode", mode},
            {"task", task},
            {"examples", prompts.size()},
            {"random_sets", random_sets}};
  if (!retrieval.empty()) r.meta["retrieval_scores"] = retrieval;
  return r;
}

}  // namespace

std::shared_ptr<const Probe> head_masking_probe() {
  ProbeInfo info;
  info.name = "head_masking";
  info.title = "Head masking";
  info.description =
      "A task's accuracy with chosen heads masked — uniform attention over the positions they "
      "may attend to (Wu et al.), or their output zeroed — against masking as many randomly "
      "drawn other heads.";
  using T = OptionSpec::Type;
  info.options = {
      {"heads", T::String, "top_retrieval:2", {}, {}, {},
       "heads to mask: a list (L1H2,L3H0) or top_retrieval:K (the K best retrieval heads)"},
      {"mode", T::String, "uniform", {"uniform", "zero"}, {}, {},
       "uniform: uniform attention over allowed positions (the paper's masking); zero: output zeroed"},
      {"task", T::String, "needle", task_choices(), {}, {}, "the task whose accuracy is measured"},
      {"examples", T::Integer, 100, {}, 1.0, 100000.0, "task examples"},
      {"random_draws", T::Integer, 5, {}, 0.0, 1000.0, "draws of as many random other heads"},
      {"seed", T::Integer, 0, {}, 0.0, 2147483647.0, "seed of the examples and draws"}};
  info.arrays = {{"accuracy", {"condition"}, "none, masked, and the mean of the random draws"},
                 {"random_accuracy", {"draw"}, "accuracy with each random draw masked"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
