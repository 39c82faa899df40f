// Encoding and decoding as SAELens 6.x does (saes/sae.py, standard_sae.py, topk_sae.py,
// jumprelu_sae.py): normalise, subtract b_dec when asked, affine, activation; decode is affine
// then the normalisation undone.
#include "core/sae/sae.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/model/model.h"
#include "core/util/error.h"
#include "core/util/gemm.h"

namespace mechscope::sae {

const char* architecture_name(Architecture a) {
  switch (a) {
    case Architecture::Standard: return "standard";
    case Architecture::TopK: return "topk";
    case Architecture::JumpReLU: return "jumprelu";
  }
  return "standard";
}

Architecture parse_architecture(const std::string& name) {
  if (name == "standard" || name == "relu") return Architecture::Standard;
  if (name == "topk") return Architecture::TopK;
  if (name == "jumprelu") return Architecture::JumpReLU;
  throw Error("Unknown SAE architecture '" + name + "'; known: standard (relu), topk, jumprelu.");
}

namespace {

// SAELens' run-time normalisation (SAE._setup_activation_normalization): the input side
// returns the normalised x and the statistics the output side needs. `x` [..., d_in].
struct Norm {
  at::Tensor coeff;  // constant_norm_rescale: √d_in / ‖x‖
  at::Tensor mu;     // layer_norm: mean and unbiased std of x
  at::Tensor std;
};

constexpr double kLayerNormEps = 1e-5;

at::Tensor normalize_in(const SaeConfig& cfg, const at::Tensor& x, Norm& norm) {
  const std::string& n = cfg.normalize_activations;
  if (n == "constant_norm_rescale") {
    // (d_in ** 0.5) / x.norm(dim=-1, keepdim=True): Python's scalar / tensor is reciprocal · scalar.
    norm.coeff = at::reciprocal(x.norm(2, -1, true)) * std::sqrt(double(cfg.d_in));
    return x * norm.coeff;
  }
  if (n == "layer_norm") {
    norm.mu = x.mean(-1, true);
    const at::Tensor centred = x - norm.mu;
    norm.std = centred.std(-1, /*unbiased=*/true, /*keepdim=*/true);
    return centred / (norm.std + kLayerNormEps);
  }
  // none, expected_average_only_in, covariance_whitening: identities at inference.
  return x;
}

at::Tensor normalize_out(const SaeConfig& cfg, const at::Tensor& y, const Norm& norm) {
  const std::string& n = cfg.normalize_activations;
  if (n == "constant_norm_rescale") return y / norm.coeff;
  if (n == "layer_norm") return y * norm.std + norm.mu;  // no eps on the way out (as SAELens)
  return y;
}

void check_width(const SaeConfig& cfg, const at::Tensor& t, int64_t want, const char* what) {
  if (t.dim() == 0 || t.size(-1) != want)
    throw Error("The SAE at '" + cfg.hook_name + "' takes " + what + " of " +
                std::to_string(want) + " values, got a tensor whose last axis holds " +
                (t.dim() == 0 ? std::string("nothing (a scalar)") : std::to_string(t.size(-1))) +
                ".");
}

// Everything encode does after the normalisation (`x` normalised, in the weights' dtype).
at::Tensor encode_normalised(const Sae& sae, at::Tensor x) {
  const SaeConfig& cfg = sae.cfg;
  if (cfg.apply_b_dec_to_input) x = x - sae.b_dec;
  at::Tensor pre = mechscope::linear(x, sae.W_enc.t(), sae.b_enc);
  switch (cfg.architecture) {
    case Architecture::Standard: return at::relu(pre);
    case Architecture::JumpReLU:
      return at::relu(pre) * (pre > sae.threshold).to(pre.scalar_type());
    case Architecture::TopK: {
      if (cfg.rescale_acts_by_decoder_norm) pre = pre * sae.W_dec.norm(2, -1);
      const int64_t k = std::min<int64_t>(cfg.k, cfg.d_sae);
      // torch.topk(k, sorted=False), ReLU on the kept values, zeros elsewhere (SAELens' TopK).
      auto [values, indices] = pre.topk(k, -1, /*largest=*/true, /*sorted=*/false);
      return at::zeros_like(pre).scatter_(-1, indices, at::relu(values));
    }
  }
  return pre;
}

at::Tensor decode_affine(const Sae& sae, const at::Tensor& f_in) {
  at::Tensor f = f_in.to(sae.W_dec.scalar_type());
  if (sae.cfg.architecture == Architecture::TopK && sae.cfg.rescale_acts_by_decoder_norm)
    f = f * at::reciprocal(sae.W_dec.norm(2, -1));
  return mechscope::linear(f, sae.W_dec.t(), sae.b_dec);
}

}  // namespace

at::Tensor Sae::encode(const at::Tensor& x_in) const {
  check_width(cfg, x_in, cfg.d_in, "activations");
  Norm norm;
  return encode_normalised(*this, normalize_in(cfg, x_in.to(W_enc.scalar_type()), norm));
}

at::Tensor Sae::decode(const at::Tensor& f, const at::Tensor& x) const {
  check_width(cfg, f, cfg.d_sae, "latent activations");
  Norm norm;
  if (cfg.normalize_activations == "constant_norm_rescale" ||
      cfg.normalize_activations == "layer_norm") {
    check_width(cfg, x, cfg.d_in, "activations");
    normalize_in(cfg, x.to(W_dec.scalar_type()), norm);
  }
  return normalize_out(cfg, decode_affine(*this, f), norm);
}

at::Tensor Sae::reconstruct(const at::Tensor& x) const {
  check_width(cfg, x, cfg.d_in, "activations");
  Norm norm;
  const at::Tensor f = encode_normalised(*this, normalize_in(cfg, x.to(W_enc.scalar_type()), norm));
  return normalize_out(cfg, decode_affine(*this, f), norm);
}

at::Tensor Sae::direction(int64_t i) const {
  if (i < 0 || i >= cfg.d_sae)
    throw Error("The SAE has " + std::to_string(cfg.d_sae) + " latents; there is no feature " +
                std::to_string(i) + ".");
  return W_dec[i];
}

void Sae::to(at::Device device, at::ScalarType dtype) {
  for (at::Tensor* t : {&W_enc, &W_dec, &b_enc, &b_dec, &threshold})
    if (t->defined()) *t = t->to(device, dtype);
}

void Sae::check_shapes(const std::string& where) const {
  auto check = [&](const at::Tensor& t, const char* name, std::vector<int64_t> want) {
    if (!t.defined()) throw Error(where + " has no tensor " + name + ".");
    if (t.sizes().vec() != want) {
      auto text = [](const std::vector<int64_t>& s) {
        std::string out = "[";
        for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
        return out + "]";
      };
      throw Error(where + ": " + name + " has shape " + text(t.sizes().vec()) + ", expected " +
                  text(want) + " (d_in " + std::to_string(cfg.d_in) + ", d_sae " +
                  std::to_string(cfg.d_sae) + ").");
    }
  };
  check(W_enc, "W_enc", {cfg.d_in, cfg.d_sae});
  check(W_dec, "W_dec", {cfg.d_sae, cfg.d_in});
  check(b_enc, "b_enc", {cfg.d_sae});
  check(b_dec, "b_dec", {cfg.d_in});
  if (cfg.architecture == Architecture::JumpReLU) check(threshold, "threshold", {cfg.d_sae});
  if (cfg.architecture == Architecture::TopK && (cfg.k < 1 || cfg.k > cfg.d_sae))
    throw Error(where + ": a topk SAE needs 1 ≤ k ≤ d_sae (" + std::to_string(cfg.d_sae) +
                "), got k = " + std::to_string(cfg.k) + ".");
  if (!known_normalization(cfg.normalize_activations))
    throw Error(where + ": unknown normalize_activations '" + cfg.normalize_activations +
                "'; SAELens knows none, expected_average_only_in, constant_norm_rescale, "
                "layer_norm and covariance_whitening.");
}

bool known_normalization(const std::string& name) {
  return name == "none" || name == "expected_average_only_in" || name == "constant_norm_rescale" ||
         name == "layer_norm" || name == "covariance_whitening";
}

namespace {
std::string shape_text(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}
}  // namespace
at::Tensor sae_input(const Sae& sae, const at::Tensor& a) {
  const int64_t d_in = sae.cfg.d_in;
  if (a.dim() == 3 && a.size(2) == d_in) return a;
  if (a.dim() == 4 && a.size(2) * a.size(3) == d_in)
    return a.reshape({a.size(0), a.size(1), d_in});
  throw Error("The SAE reads " + sae.cfg.hook_name + " with d_in " + std::to_string(d_in) +
              ", but the activation there has shape " + shape_text(a) +
              " ([batch, position, ...]), not " + std::to_string(d_in) + " values per position.");
}

void check_fits(const Sae& sae, const Model& model) {
  if (sae.cfg.hook_name.empty())
    throw Error("The SAE names no hook point (cfg.json has no hook_name, nor metadata.hook_name), "
                "so it cannot be placed in the model.");
  const HookPoints& points = model.hook_points();
  for (int i = 0; i < points.table_size(); ++i) {
    if (points.name(i) != sae.cfg.hook_name) continue;
    const HookKind kind = HookPoints::locate(i).first;
    if (kind == HookKind::AttnScores || kind == HookKind::Pattern)
      throw Error("The SAE reads " + sae.cfg.hook_name + " (d_in " +
                  std::to_string(sae.cfg.d_in) +
                  "), an attention pattern whose width depends on the prompt; an SAE can only be "
                  "spliced at a point with a fixed width per position.");
    const int64_t width = model.hook_width(kind, 1);
    if (width != sae.cfg.d_in)
      throw Error("The SAE reads " + sae.cfg.hook_name + " with d_in " +
                  std::to_string(sae.cfg.d_in) + ", but the model's " + sae.cfg.hook_name +
                  " holds " + std::to_string(width) + " values per position.");
    return;
  }
  throw Error("The SAE reads the hook point '" + sae.cfg.hook_name + "' (d_in " +
              std::to_string(sae.cfg.d_in) + "), which the model (" + model.source().path +
              ", " + std::to_string(model.config().n_layers) + " layers) does not have.");
}

}  // namespace mechscope::sae
