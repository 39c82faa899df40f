#include "probes/sae_extract.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "core/util/error.h"
#include "core/util/gemm.h"
#include "probes/row_top_k.h"

namespace mechscope::probes {

namespace {

/// Whether Sae::encode leaves the input as it is (the normalisations it undoes in decode are
/// the two that depend on each row's statistics).
bool plain_input(const sae::SaeConfig& cfg) {
  return cfg.normalize_activations != "constant_norm_rescale" &&
         cfg.normalize_activations != "layer_norm";
}

std::string shape_text(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

}  // namespace

FeatureExtraction extract_features(const sae::Sae& sae, const at::Tensor& x_in, int64_t k) {
  const sae::SaeConfig& cfg = sae.cfg;
  if (x_in.dim() != 2 || x_in.size(1) != cfg.d_in)
    throw Error("The SAE at " + cfg.hook_name + " reads rows of " + std::to_string(cfg.d_in) +
                " values (d_in); got activations of shape " + shape_text(x_in) + ".");
  const at::Tensor x = x_in.to(sae.W_enc.device(), sae.W_enc.scalar_type()).contiguous();
  FeatureExtraction out;
  at::Tensor diff;  // x̂ − x
  if (plain_input(cfg) && cfg.architecture != sae::Architecture::TopK) {
    // Sae::encode's arithmetic, fused: relu(b_enc + x W_enc) in the GEMM's own output, the
    // jumprelu threshold as a masked fill (relu(pre)·(pre > θ) = v·(v > θ) for v = relu(pre)).
    const at::Tensor in = cfg.apply_b_dec_to_input ? x - sae.b_dec : x;
    out.acts = mechscope::addmm(sae.b_enc, in, sae.W_enc).relu_();
    if (cfg.architecture == sae::Architecture::JumpReLU)
      out.acts.masked_fill_(out.acts <= sae.threshold, 0);
    diff = mechscope::addmm(sae.b_dec, out.acts, sae.W_dec).sub_(x);
  } else {
    out.acts = sae.encode(x);
    diff = sae.decode(out.acts, x).sub_(x);
  }
  const at::Tensor num = diff.norm(2, 1), den = x.norm(2, 1);
  out.error = (num / den).masked_fill_((num == 0).logical_and_(den == 0), 0).to(at::kFloat);
  const RowTopK top = row_top_k(out.acts, std::clamp<int64_t>(k, 1, cfg.d_sae), false);
  out.top_values = top.top_value;
  out.top_ids = top.top_index;
  return out;
}

at::Tensor encode_latents(const sae::Sae& sae, const at::Tensor& x_in, const at::Tensor& ids,
                          int64_t chunk_rows) {
  const at::Tensor x = x_in.to(sae.W_enc.device(), sae.W_enc.scalar_type());
  const at::Tensor idx = ids.to(sae.W_enc.device(), at::kLong);
  if (sae.cfg.architecture == sae::Architecture::TopK) {
    std::vector<at::Tensor> parts;
    const int64_t rows = x.size(0), step = std::max<int64_t>(1, chunk_rows);
    for (int64_t r0 = 0; r0 < rows; r0 += step)
      parts.push_back(sae.encode(x.slice(0, r0, std::min(rows, r0 + step))).index_select(1, idx));
    return parts.empty() ? at::empty({0, idx.numel()}, x.options()) : at::cat(parts);
  }
  // The same SAE cut down to the asked latents (its encoder reads no W_dec).
  sae::Sae part;
  part.cfg = sae.cfg;
  part.cfg.d_sae = idx.numel();
  part.W_enc = sae.W_enc.index_select(1, idx);
  part.b_enc = sae.b_enc.index_select(0, idx);
  part.b_dec = sae.b_dec;
  if (sae.threshold.defined()) part.threshold = sae.threshold.index_select(0, idx);
  return part.encode(x);
}


}  // namespace mechscope::probes
