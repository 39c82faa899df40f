// attribution_patching (Nanda; Syed et al.): the linear estimate of activation patching,
// (clean − corrupted) ⊙ ∂metric/∂activation with the gradient taken on the corrupted run — two
// forward passes and one backward pass for every target at once.
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>
#include <map>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/metric.h"
#include "probes/patching.h"
#include "probes/result_meta.h"
#include "probes/sae_patching.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

/// Σ of (clean − corrupted) ⊙ grad for one activation of one layer, reduced to the target's
/// axes within the layer: [pos], [head], [pos, head] or [neuron].
at::Tensor reduce(HookKind kind, bool per_position, const at::Tensor& prod /* [1, ...] */) {
  const at::Tensor p = prod[0];
  switch (kind) {
    case HookKind::Z: case HookKind::Q: case HookKind::K: case HookKind::V: {
      at::Tensor per = p.sum(-1);  // [pos, head]
      return per_position ? per : per.sum(0);
    }
    case HookKind::Pattern: {
      at::Tensor per = p.sum(-1);  // [head, query]
      return per_position ? per.transpose(0, 1) : per.sum(-1);
    }
    case HookKind::MlpPost:
      return p.sum(0);  // [neuron]
    default:
      return p.sum(-1);  // [pos]
  }
}

double pearson(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.reshape(-1).to(at::kDouble), y = b.reshape(-1).to(at::kDouble);
  const at::Tensor xc = x - x.mean(), yc = y - y.mean();
  const double den = std::sqrt((xc * xc).sum().item<double>() * (yc * yc).sum().item<double>());
  return den > 0 ? (xc * yc).sum().item<double>() / den : 0.0;
}

/// target=sae_feature: [position, latent] of the SAE in option `sae`.
Result run_sae_feature(const Model& model, const ProbeInputs& in, const Options& options,
                       const Progress& progress) {
  const sae::Sae sae = sae_from_options(options);
  Metric metric(options.string("metric"), in);
  report(progress, 0.1);
  const at::Tensor effect =
      sae_feature_attribution(model, in.tokens, *in.corrupt_tokens, sae, metric);
  const std::vector<Axis> axes = sae_feature_axes(model, in.tokens, sae.cfg.d_sae);
  Result r;
  r.title = result_title("Attribution patching (SAE features, " + sae.cfg.hook_name + ")",
                         in.prompt);
  r.arrays["effect"] = to_array(effect, axes);
  r.meta = metric.meta();
  add_sae_feature_meta(r.meta, options.string("sae"), sae);
  r.meta["note"] = "linear estimate of (patched − corrupted) metric; 0 = no effect";
  if (options.boolean("compare")) {
    const SaeSweepResult sweep =
        sae_feature_sweep(model, in.tokens, *in.corrupt_tokens, sae, metric, 5, progress);
    const at::Tensor delta = sweep.effect - metric.corrupted();
    r.arrays["activation_effect"] = to_array(delta, axes);
    r.meta["correlation"] = pearson(effect, delta);
  }
  return r;
}

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  if (options.string("target") == "sae_feature") return run_sae_feature(model, in, options, progress);
  const ModelConfig& c = model.config();
  const Target target = parse_target(options.string("target"));
  const bool per_position = options.boolean("per_position");
  const bool all_targets = options.boolean("all_targets");
  check_target(model, target, per_position);
  Metric metric(options.string("metric"), in);

  // Which targets to report, and the hook kinds they read.
  std::vector<Target> wanted = {target};
  if (all_targets)
    for (const std::string& name : target_choices(true)) {
      const Target t = parse_target(name);
      if (t != target && !(t == Target::ResidMid && c.parallel_attn_mlp)) wanted.push_back(t);
    }
  std::vector<HookKind> kinds;
  auto need = [&](HookKind k) {
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  };
  for (Target t : wanted)
    if (t == Target::Block)
      for (HookKind k : block_components()) need(k);
    else
      need(target_hook(t));

  at::AutoGradMode grad_mode(true);
  report(progress, 0.1);
  // One forward pass of [clean; corrupted] with a graph from the embeddings on (at a prompt's
  // length the pass reads every weight once, for one row or two); the metric reads the corrupted
  // row only, so the clean row's gradients are zero and its activations are the clean cache.
  std::map<HookKind, std::vector<at::Tensor>> acts;
  HookSet hooks;
  hooks.add(HookKind::Embed, -1, [](HookCall& h) { h.value = h.value.detach().requires_grad_(true); });
  hooks.add(HookKind::LnFinalScale, -1, [](HookCall& h) { h.stop = true; });  // last position only
  for (HookKind k : kinds) {
    auto& slot = acts[k];
    slot.assign(c.n_layers, at::Tensor());
    hooks.add(k, HookSet::kEveryLayer, [&slot](HookCall& h) { slot[h.layer] = h.value; });
  }
  const ForwardOutput out = model.run(
      at::cat({prompt_tensor(model, in.tokens), prompt_tensor(model, *in.corrupt_tokens)}), {},
      &hooks);
  // The baselines come from the two rows (the corrupted one is a constant of the gradient:
  // normalising only rescales it).
  const at::Tensor both = metric.raw(model.unembed(out.resid.select(1, -1)));  // [2]
  const at::Tensor raw = both[1];
  metric.set_baselines(both[0].item<double>(), raw.item<double>());
  const at::Tensor m = metric.kind() == "normalized"
                           ? (raw - metric.corrupted_raw()) / (metric.clean_raw() - metric.corrupted_raw())
                           : raw;
  report(progress, 0.6);
  std::vector<at::Tensor> inputs;
  for (HookKind k : kinds)
    for (const at::Tensor& a : acts[k]) inputs.push_back(a);  // [2, ...]: clean, corrupted
  const std::vector<at::Tensor> grads = torch::autograd::grad({m}, inputs, {}, false, false, true);
  report(progress, 0.9);

  // Per kind and layer: Σ (clean − corrupted) ⊙ grad over the feature dimension.
  std::map<HookKind, std::vector<at::Tensor>> prods;
  {
    at::NoGradGuard no_grad;
    size_t i = 0;
    for (HookKind k : kinds)
      for (int l = 0; l < c.n_layers; ++l, ++i) {
        const at::Tensor a = inputs[i].detach();                         // [2, ...]
        const at::Tensor g = grads[i].defined() ? grads[i].slice(0, 1, 2)  // [1, ...]
                                                : at::zeros_like(a.slice(0, 1, 2));
        prods[k].push_back(((a.slice(0, 0, 1) - a.slice(0, 1, 2)) * g).to(at::kFloat));
      }
  }
  auto effect_of = [&](Target t, bool per_pos) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> layers;
    if (t == Target::Block) {
      std::vector<at::Tensor> comps;
      for (HookKind k : block_components()) {
        std::vector<at::Tensor> ls;
        for (int l = 0; l < c.n_layers; ++l) ls.push_back(reduce(k, false, prods[k][l]));
        comps.push_back(at::stack(ls));  // [layer, pos]
      }
      return at::stack(comps);  // [component, layer, pos]
    }
    for (int l = 0; l < c.n_layers; ++l)
      layers.push_back(reduce(target_hook(t), per_pos, prods[target_hook(t)][l]));
    return at::stack(layers);
  };

  const std::vector<std::string> token_text = token_labels(model, in.tokens);
  Result r;
  r.title = result_title(std::string("Attribution patching (") + target_name(target) + ")",
                         in.prompt);
  const at::Tensor effect = effect_of(target, per_position);
  r.arrays["effect"] = to_array(effect, effect_axes(model, target, per_position, token_text));
  if (all_targets)
    for (Target t : wanted)
      r.arrays[std::string("effect_") + target_name(t)] =
          to_array(effect_of(t, false), effect_axes(model, t, false, token_text));
  r.meta = metric.meta();
  r.meta["target"] = target_name(target);
  r.meta["note"] = "linear estimate of (patched − corrupted) metric; 0 = no effect";
  if (options.boolean("compare") && target != Target::Neuron) {
    const SweepResult sweep =
        activation_patching_sweep(model, in.tokens, *in.corrupt_tokens, target, per_position,
                                  metric, 5, progress, 0.9, 1.0);
    // Compared as changes from the corrupted run, the quantity attribution estimates.
    const at::Tensor delta = sweep.effect - metric.corrupted();
    r.arrays["activation_effect"] =
        to_array(delta, effect_axes(model, target, per_position, token_text));
    r.meta["correlation"] = pearson(effect.to(at::kCPU), delta);
  }
  return r;
}

}  // namespace

std::shared_ptr<const Probe> attribution_patching_probe() {
  ProbeInfo info;
  info.name = "attribution_patching";
  info.title = "Attribution patching";
  info.description =
      "The gradient estimate of activation patching for every activation at once: (clean − "
      "corrupted) · ∂metric/∂activation on the corrupted run. Two forward passes, one backward.";
  info.inputs = patching_inputs();
  std::vector<std::string> targets = target_choices(true);
  targets.push_back("sae_feature");
  info.options = {
      {"target",
       OptionSpec::Type::String,
       "resid_pre",
       targets,
       {},
       {},
       "which activation: residual stream, attention/MLP output, a head's z/q/k/v/pattern, "
       "block, neuron (mlp.hook_post), or sae_feature (each latent of the SAE in option sae, "
       "at each position)"},
      {"per_position",
       OptionSpec::Type::Boolean,
       false,
       {},
       {},
       {},
       "head targets: one value per head and position"},
      metric_option(),
      {"all_targets",
       OptionSpec::Type::Boolean,
       false,
       {},
       {},
       {},
       "also write effect_<target> for every target (same passes)"},
      {"compare",
       OptionSpec::Type::Boolean,
       false,
       {},
       {},
       {},
       "also run activation patching of the target (array activation_effect, as a change from "
       "the corrupted metric) and report the correlation"},
      sae_target_option()};
  info.arrays = {{"effect", {"layer", "position"},
                  "estimated change of the metric; axes as activation_patching's effect, "
                  "[layer, neuron] for neuron, [position, latent] for sae_feature"},
                 {"activation_effect", {"layer", "position"}, "with compare: the real change"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
