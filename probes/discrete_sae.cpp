#include "probes/discrete_sae.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <random>
#include <string>

#include "core/util/error.h"

namespace mechscope::probes {

namespace {

/// [rows, cols] uniform in ±bound from `rng`, as a CPU float tensor.
at::Tensor uniform(std::mt19937_64& rng, int64_t rows, int64_t cols, double bound) {
  std::uniform_real_distribution<float> u(float(-bound), float(bound));
  std::vector<float> v(size_t(rows * cols));
  for (float& e : v) e = u(rng);
  return at::tensor(v, at::kFloat).view({rows, cols});
}

at::Tensor unit_rows(const at::Tensor& v) { return v / v.norm(2, 1, true).clamp_min(1e-12); }

}  // namespace

double normalizing_scale(const at::Tensor& x) {
  if (!x.defined() || x.dim() != 2 || x.size(0) < 1 || x.size(1) < 1)
    throw Error("The discrete SAE normalises a [rows, width] matrix of at least one row.");
  const double mean_norm = x.detach().to(at::kCPU, at::kDouble).norm(2, 1).mean().item<double>();
  return mean_norm > 0 ? std::sqrt(double(x.size(1))) / mean_norm : 1.0;
}

DiscreteSaeFit train_discrete_sae(const at::Tensor& x_in, const DiscreteSaeOptions& o,
                                  const Progress& progress, double lo, double hi) {
  if (!x_in.defined() || x_in.dim() != 2 || x_in.size(0) < 1 || x_in.size(1) < 1)
    throw Error("The discrete SAE trains on a [rows, width] matrix of at least one row.");
  if (o.latents < 1 || o.epochs < 1 || !(o.lr > 0) || !(o.l1 >= 0))
    throw Error("The discrete SAE needs latents ≥ 1, epochs ≥ 1, lr > 0 and l1 ≥ 0 (got latents " +
                std::to_string(o.latents) + ", epochs " + std::to_string(o.epochs) + ", lr " +
                std::to_string(o.lr) + ", l1 " + std::to_string(o.l1) + ").");
  // Training needs autograd even when the caller runs in inference mode; the input is copied out
  // of it (inference tensors cannot be saved for backward).
  c10::InferenceMode no_inference(false);
  at::AutoGradMode grad(true);
  const double scale = o.normalize ? normalizing_scale(x_in) : 1.0;
  const at::Tensor x = (x_in.detach().to(at::kCPU, at::kFloat) * scale).contiguous();
  const int64_t d = x.size(1), k = o.latents;

  std::mt19937_64 rng(o.seed);
  const at::Tensor w_enc0 = uniform(rng, d, k, 1.0 / std::sqrt(double(d)));
  at::Tensor W_enc = w_enc0.clone().set_requires_grad(true);                  // [d, k]
  at::Tensor V = unit_rows(w_enc0.t().contiguous()).set_requires_grad(true);  // [k, d]
  at::Tensor c = at::zeros({k}, at::kFloat).set_requires_grad(true);
  at::Tensor b = at::zeros({d}, at::kFloat).set_requires_grad(true);

  sae::Sae s;
  s.cfg.architecture = sae::Architecture::Standard;
  s.cfg.d_in = d;
  s.cfg.d_sae = k;
  s.cfg.apply_b_dec_to_input = true;
  s.cfg.hook_name = "blocks.*.attn.hook_result";
  auto bind = [&] {
    s.W_enc = W_enc;
    s.W_dec = unit_rows(V);
    s.b_enc = c;
    s.b_dec = b;
  };
  auto losses = [&](const at::Tensor& f, const at::Tensor& x_hat) {
    const at::Tensor mse = (x_hat - x).pow(2).mean();
    const at::Tensor l1 = f.abs().sum(-1).mean();
    return std::make_pair(mse, l1);
  };

  torch::optim::Adam adam(std::vector<at::Tensor>{W_enc, V, c, b}, torch::optim::AdamOptions(o.lr));
  const int64_t every = std::max<int64_t>(1, o.epochs / 50);
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    adam.zero_grad();
    bind();
    const at::Tensor f = s.encode(x);
    const auto [mse, l1] = losses(f, s.decode(f, x));
    (mse + o.l1 * l1).backward();
    adam.step();
    if ((epoch + 1) % every == 0)
      report(progress, lo + (hi - lo) * double(epoch + 1) / double(o.epochs));
  }

  DiscreteSaeFit fit;
  {
    at::NoGradGuard no_grad;
    bind();
    const at::Tensor f = s.encode(x);
    const auto [mse, l1] = losses(f, s.decode(f, x));
    fit.l1 = l1.item<double>();
    fit.loss = mse.item<double>() + o.l1 * fit.l1;
    fit.mse = mse.item<double>() / (scale * scale);
  }
  // The scale folded into the weights (SAELens' fold_activation_norm_scaling_factor): for the
  // rows as given, (x − b/s)(s W_enc) = (s x − b) W_enc, and (f W_dec + b) / s undoes the scale.
  fit.input_scale = scale;
  fit.sae = s;
  fit.sae.W_enc = (W_enc.detach() * scale).contiguous();
  fit.sae.W_dec = (unit_rows(V).detach() / scale).contiguous();
  fit.sae.b_enc = c.detach().clone();
  fit.sae.b_dec = (b.detach() / scale).contiguous();
  report(progress, hi);
  return fit;
}

std::vector<int64_t> sae_codes(const sae::Sae& sae, const at::Tensor& x) {
  at::NoGradGuard no_grad;
  const at::Tensor f = sae.encode(x.detach().to(sae.W_enc.device(), sae.W_enc.scalar_type()));
  const auto [top, index] = f.max(-1);
  const at::Tensor codes = at::where(top > 0, index, at::full_like(index, -1)).to(at::kCPU);
  const at::Tensor flat = codes.reshape({-1}).contiguous();
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

}  // namespace mechscope::probes
