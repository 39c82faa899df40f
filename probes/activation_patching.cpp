// activation_patching: the metric of the corrupted run with one clean activation patched in, for
// every layer × position (or head, or block component) — TransformerLens patching.py, batched.
#include <ATen/ATen.h>

#include "core/model/model.h"
#include "probes/builtin.h"
#include "probes/metric.h"
#include "probes/patching.h"
#include "probes/result_meta.h"
#include "probes/sae_patching.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

/// target=sae_feature: effect [position, latent] of the SAE given by option `sae`.
Result run_sae_feature(const Model& model, const ProbeInputs& in, const Options& options,
                       const Progress& progress) {
  const sae::Sae sae = sae_from_options(options);
  Metric metric(options.string("metric"), in);
  const int64_t k = options.integer("top_k");
  const SaeSweepResult sweep =
      sae_feature_sweep(model, in.tokens, *in.corrupt_tokens, sae, metric, k, progress);
  std::vector<Axis> axes = sae_feature_axes(model, in.tokens, sae.cfg.d_sae);
  Result r;
  r.title = result_title("Activation patching (SAE features, " + sae.cfg.hook_name + ")",
                         in.prompt);
  r.arrays["effect"] = to_array(sweep.effect, axes);
  if (sweep.top_prob.defined()) {
    axes.push_back({"rank", rank_labels(sweep.top_prob.size(-1))});
    r.arrays["top_prob"] = to_array(sweep.top_prob, axes);
    r.arrays["top_token"] = to_array(sweep.top_token, axes);
  }
  r.meta = metric.meta();
  add_sae_feature_meta(r.meta, options.string("sae"), sae);
  r.meta["patched_cells"] = sweep.patched;
  if (sweep.top_token.defined()) r.meta["token_strings"] = token_strings(model, sweep.top_token);
  return r;
}

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  if (options.string("target") == "sae_feature") return run_sae_feature(model, in, options, progress);
  const Target target = parse_target(options.string("target"));
  const bool per_position = options.boolean("per_position");
  check_target(model, target, per_position);
  Metric metric(options.string("metric"), in);
  const int64_t k = options.integer("top_k");
  const SweepResult sweep = activation_patching_sweep(model, in.tokens, *in.corrupt_tokens, target,
                                                      per_position, metric, k, progress, 0.05, 1);

  const auto axes = effect_axes(model, target, per_position, token_labels(model, in.tokens));
  auto kaxes = axes;
  kaxes.push_back({"rank", rank_labels(sweep.top_prob.size(-1))});
  Result r;
  r.title = result_title(std::string("Activation patching (") + target_name(target) + ")",
                         in.prompt);
  r.arrays["effect"] = to_array(sweep.effect, axes);
  r.arrays["top_prob"] = to_array(sweep.top_prob, kaxes);
  r.arrays["top_token"] = to_array(sweep.top_token, kaxes);
  r.meta = metric.meta();
  r.meta["target"] = target_name(target);
  r.meta["token_strings"] = token_strings(model, sweep.top_token);
  return r;
}

}  // namespace

std::shared_ptr<const Probe> activation_patching_probe() {
  ProbeInfo info;
  info.name = "activation_patching";
  info.title = "Activation patching";
  info.description =
      "Runs the corrupted prompt with one clean activation patched in at a time and measures the "
      "metric: which activations carry the difference between the prompts (denoising).";
  info.inputs = patching_inputs();
  std::vector<std::string> choices = target_choices(false);
  choices.push_back("sae_feature");
  OptionSpec target{"target",
                    OptionSpec::Type::String,
                    "resid_pre",
                    choices,
                    {},
                    {},
                    "which activation to patch: residual stream, attention/MLP output, a head's "
                    "z/q/k/v/pattern, block (resid_pre, attn_out and mlp_out), or sae_feature "
                    "(each latent of the SAE in option sae, at each position)"};
  OptionSpec per_position{"per_position", OptionSpec::Type::Boolean, false, {}, {}, {},
                          "head targets: patch each head at each position separately"};
  OptionSpec top_k{"top_k", OptionSpec::Type::Integer, 5, {}, 1.0, 100.0,
                   "next tokens kept for each patched run"};
  info.options = {target, per_position, metric_option(), top_k, sae_target_option()};
  info.arrays = {
      {"effect", {"layer", "position"},
       "metric with the clean activation patched in; [layer, head] for head targets, [layer, "
       "position, head] with per_position, [component, layer, position] for block, [position, "
       "latent] for sae_feature"},
      {"top_prob", {"layer", "position", "rank"}, "each patched run's top next-token probabilities"},
      {"top_token", {"layer", "position", "rank"}, "their token ids"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
