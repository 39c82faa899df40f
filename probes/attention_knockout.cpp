// attention_knockout (Geva et al. 2023): for each layer ℓ, block attention edges from the `from`
// positions to the `to` positions in the window of layers around ℓ and measure the relative
// change of the answer's probability — on the prompt, or averaged over a task's examples that
// the model answers correctly.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/knockout.h"
#include "probes/knockout_prompts.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const int64_t L = model.config().n_layers;
  const int64_t window = options.integer("window");
  const at::Tensor layers = window_table(L, window);  // [centre, layer]
  const KnockoutPrompts prompts = knockout_prompts(model, in, options);
  const std::string from = options.string("from"), to = options.string("to");

  std::vector<at::Tensor> changes, blocked_p;
  nlohmann::json edges = nlohmann::json::object();
  int64_t without_roles = 0;
  const size_t n = prompts.items.size();
  for (size_t i = 0; i < n; ++i) {
    const KnockoutPrompt& p = prompts.items[i];
    const int64_t T = int64_t(p.tokens.size());
    std::vector<int64_t> f, t;
    try {
      f = parse_positions(from, p.roles, T), t = parse_positions(to, p.roles, T);
    } catch (const Error&) {
      // A task example without the role (e.g. a shapes question with no object to point at) is
      // left out; the user's own prompt must have it.
      if (!prompts.from_task) throw;
      ++without_roles;
      continue;
    }
    if (edges.empty()) edges = {{"from", f}, {"to", t}};
    const at::Tensor pb = knockout_probabilities(
        model, p.tokens, p.pixels, p.answer, edge_mask(T, f, t).unsqueeze(0), layers,
        [&](double x) { report(progress, (double(i) + x) / double(n)); });
    blocked_p.push_back(pb);
    changes.push_back((pb - p.p_clean) / p.p_clean);
  }
  if (changes.empty())
    throw Error("None of the " + std::to_string(n) + " examples has both '" + from + "' and '" + to +
                "' positions.");
  const at::Tensor change = at::stack(changes);  // [example, layer]
  const Axis layer{"layer", index_labels("L", L)};
  Result r;
  r.title = prompts.from_task
                ? "Attention knockout " + from + " → " + to + " — " + options.string("task") +
                      " (" + std::to_string(changes.size()) + " examples)"
                : result_title("Attention knockout " + from + " → " + to, in.prompt);
  r.arrays["relative_change"] = to_array(change.mean(0), {layer});
  r.arrays["p_blocked"] = to_array(at::stack(blocked_p).mean(0), {layer});
  if (prompts.from_task)
    r.arrays["example_change"] =
        to_array(change, {{"example", index_labels("", change.size(0))}, layer});
  r.meta = prompts.meta;
  r.meta["from"] = from;
  r.meta["to"] = to;
  r.meta["window"] = window;
  r.meta["first_prompt_positions"] = edges;
  if (prompts.from_task) {
    r.meta["examples_without_roles"] = without_roles;
    r.meta["examples_kept"] = r.meta["examples_kept"].get<int64_t>() - without_roles;
  }
  return r;
}

}  // namespace

std::shared_ptr<const Probe> attention_knockout_probe() {
  ProbeInfo info;
  info.name = "attention_knockout";
  info.title = "Attention knockout";
  info.description =
      "Blocks attention from the 'from' positions to the 'to' positions in a window of layers "
      "around each layer (Geva et al. 2023) and measures the relative change of the answer's "
      "probability, (p_blocked − p_clean) / p_clean — on the prompt, or over a task's examples "
      "the model answers correctly.";
  info.inputs = knockout_inputs();
  using T = OptionSpec::Type;
  info.options = knockout_options();
  info.options.insert(
      info.options.begin(),
      {{"from", T::String, "question", {}, {}, {},
        "source positions (keys): roles — bos, last, text, question, image, subject, "
        "image_object, image_background — or indices such as 3, -1, 2:5, comma-separated"},
       {"to", T::String, "last", {}, {}, {}, "target positions (queries), written as 'from'"}});
  info.arrays = {
      {"relative_change", {"layer"},
       "(p_blocked − p_clean) / p_clean with the window centred on each layer (mean over examples)"},
      {"p_blocked", {"layer"}, "the answer's probability with the knockout"},
      {"example_change", {"example", "layer"}, "with a task: each kept example's relative change"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
