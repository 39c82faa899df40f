// The SAE-feature patching sweep: clean latents captured through the splice's edit callback,
// patched back one (position, latent) per batch row.
#include "probes/sae_patching.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <memory>

#include "core/model/model.h"
#include "core/sae/sae_hooks.h"
#include "core/sae/sae_io.h"
#include "core/util/error.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

/// The layer of the SAE's hook point (-1 for global points such as hook_embed).
int hook_layer(const Model& model, const std::string& name) {
  const HookPoints& points = model.hook_points();
  for (int i = 0; i < points.table_size(); ++i)
    if (points.name(i) == name) return HookPoints::locate(i).second;
  throw Error("The model has no hook point '" + name + "'.");
}

}  // namespace

OptionSpec sae_target_option() {
  return {"sae",
          OptionSpec::Type::String,
          "",
          {},
          {},
          {},
          "target=sae_feature: the SAELens folder whose latents are patched (spliced in with its "
          "error term, so only the patched latent changes the run)",
          "folder"};
}

sae::Sae sae_from_options(const Options& options) {
  const std::string folder = options.string("sae");
  if (folder.empty())
    throw Error(
        "target=sae_feature works on the latents of an SAE: give option sae=DIR (an "
        "SAELens folder).");
  return sae::load_sae(folder);
}

std::vector<Axis> sae_feature_axes(const Model& model, const std::vector<int64_t>& tokens,
                                   int64_t d_sae) {
  return {{"position", token_labels(model, tokens)}, {"latent", index_labels("F", d_sae)}};
}

void add_sae_feature_meta(nlohmann::json& meta, const std::string& folder, const sae::Sae& sae) {
  meta["target"] = "sae_feature";
  meta["sae"] = {{"folder", folder},
                 {"hook", sae.cfg.hook_name},
                 {"architecture", sae::architecture_name(sae.cfg.architecture)},
                 {"d_sae", sae.cfg.d_sae}};
}

SaeSweepResult sae_feature_sweep(const Model& model, const std::vector<int64_t>& clean,
                                 const std::vector<int64_t>& corrupt, const sae::Sae& sae_in,
                                 Metric& metric, int64_t top_k, const Progress& progress) {
  c10::InferenceMode guard;
  sae::check_fits(sae_in, model);
  auto sae = std::make_shared<sae::Sae>(sae_in);
  sae->to(model.device(), model.dtype());
  const ModelConfig& c = model.config();
  const int64_t T = static_cast<int64_t>(clean.size());
  const int64_t D = sae->cfg.d_sae;
  const int layer = hook_layer(model, sae->cfg.hook_name);
  sae::SpliceOptions keep;
  keep.error_term = true;  // unpatched runs are the model's own

  // Clean and corrupted runs: their latents, last-position logits and (corrupted) the residual
  // stream entering the SAE's layer.
  auto run_capture = [&](const std::vector<int64_t>& tokens, at::Tensor* resid) {
    at::Tensor acts;
    HookSet hooks;
    sae::add_splice(hooks, sae, keep, [&acts](at::Tensor& f) { acts = f.clone(); });
    if (resid != nullptr && layer >= 0)
      hooks.add(HookKind::ResidPre, layer, [resid](HookCall& h) { *resid = h.value.clone(); });
    const ForwardOutput out = model.run(prompt_tensor(model, tokens), {}, &hooks);
    return std::make_pair(acts.select(0, 0), last_position(out.logits));
  };
  const auto [clean_acts, clean_last] = run_capture(clean, nullptr);
  at::Tensor corrupt_resid;
  const auto [corrupt_acts, corrupt_last] = run_capture(corrupt, &corrupt_resid);
  metric.set_baselines(metric.raw(clean_last).item<double>(),
                       metric.raw(corrupt_last).item<double>());
  report(progress, 0.05);

  const int64_t k = std::min<int64_t>(top_k, c.d_vocab);
  const bool keep_top = T * D * k <= (int64_t(8) << 20);
  SaeSweepResult r;
  const at::Tensor corrupt_metric = metric(corrupt_last).to(at::kCPU).to(at::kFloat);
  r.effect = corrupt_metric.expand({T, D}).contiguous();
  const auto [cprob, cids] = top_tokens(corrupt_last, k);
  if (keep_top) {
    r.top_prob = cprob.to(at::kCPU).to(at::kFloat).view({1, 1, k}).expand({T, D, k}).contiguous();
    r.top_token = cids.to(at::kCPU).to(at::kFloat).view({1, 1, k}).expand({T, D, k}).contiguous();
  }

  const at::Tensor changed = clean_acts.ne(corrupt_acts).nonzero().to(at::kCPU);  // [n, 2]
  const int64_t n = changed.size(0);
  r.patched = n;
  const int64_t batch = sweep_batch_size(model, T, 128);
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t rn = std::min(batch, n - start);
    const at::Tensor cells = changed.slice(0, start, start + rn);  // [rn, (position, latent)]
    const at::Tensor pos = cells.select(1, 0).to(model.device());
    const at::Tensor lat = cells.select(1, 1).to(model.device());
    const at::Tensor rows = at::arange(rn, at::TensorOptions().dtype(at::kLong).device(model.device()));
    const at::Tensor values = clean_acts.index({pos, lat});
    HookSet hooks;
    sae::add_splice(hooks, sae, keep, [&](at::Tensor& f) { f.index_put_({rows, pos, lat}, values); });
    hooks.add(HookKind::LnFinalScale, -1, [](HookCall& h) { h.stop = true; });
    ForwardOutput out;
    if (layer >= 0) {
      out = model.run_from(layer, corrupt_resid.expand({rn, T, c.d_model}), {}, &hooks);
    } else {
      out = model.run(prompt_tensor(model, corrupt).expand({rn, T}), {}, &hooks);
    }
    const at::Tensor last = model.unembed(out.resid.select(1, -1));  // [rn, d_vocab]
    const at::Tensor m = metric(last).to(at::kCPU).to(at::kFloat);
    const at::Tensor p_cpu = cells.select(1, 0), l_cpu = cells.select(1, 1);
    r.effect.index_put_({p_cpu, l_cpu}, m);
    if (keep_top) {
      auto [prob, ids] = top_tokens(last, k);
      r.top_prob.index_put_({p_cpu, l_cpu}, prob.to(at::kCPU).to(at::kFloat));
      r.top_token.index_put_({p_cpu, l_cpu}, ids.to(at::kCPU).to(at::kFloat));
    }
    report(progress, 0.05 + 0.95 * double(start + rn) / double(n));
  }
  return r;
}

at::Tensor sae_feature_attribution(const Model& model, const std::vector<int64_t>& clean,
                                   const std::vector<int64_t>& corrupt, const sae::Sae& sae_in,
                                   Metric& metric) {
  sae::check_fits(sae_in, model);
  if (clean.size() != corrupt.size())
    throw Error("The corrupted prompt has " + std::to_string(corrupt.size()) +
                " tokens and the prompt " + std::to_string(clean.size()) + ".");
  auto sae = std::make_shared<sae::Sae>(sae_in);
  sae->to(model.device(), model.dtype());
  at::AutoGradMode grad_mode(true);
  // The latents of both rows become leaves of the graph; with the error term the forward pass is
  // the model's own, and the gradient reaches them through the decoder.
  at::Tensor leaf;
  HookSet hooks;
  sae::SpliceOptions keep;
  keep.error_term = true;
  sae::add_splice(hooks, sae, keep, [&leaf](at::Tensor& f) {
    f = f.detach().requires_grad_(true);
    leaf = f;
  });
  hooks.add(HookKind::LnFinalScale, -1, [](HookCall& h) { h.stop = true; });  // last position only
  const ForwardOutput out = model.run(
      at::cat({prompt_tensor(model, clean), prompt_tensor(model, corrupt)}), {}, &hooks);
  const at::Tensor both = metric.raw(model.unembed(out.resid.select(1, -1)));  // [2]
  metric.set_baselines(both[0].item<double>(), both[1].item<double>());
  const at::Tensor m = metric.kind() == "normalized"
                           ? (both[1] - metric.corrupted_raw()) /
                                 (metric.clean_raw() - metric.corrupted_raw())
                           : both[1];
  const at::Tensor grad = torch::autograd::grad({m}, {leaf}, {}, false, false, true)[0];
  at::NoGradGuard no_grad;
  const at::Tensor f = leaf.detach();  // [2, pos, d_sae]
  if (!grad.defined()) return at::zeros({f.size(1), f.size(2)}, at::kFloat);
  return ((f[0] - f[1]) * grad[1]).to(at::kCPU).to(at::kFloat);
}

}  // namespace mechscope::probes
