#include "core/model/rotary.h"

#include <ATen/ATen.h>

#include <cmath>

namespace mechscope {

namespace {

/// Local layers with their own base rotate with it and without scaling (Gemma 3).
bool own_local_base(const ModelConfig& cfg, bool local) { return local && cfg.rotary_base_local; }

}  // namespace

at::Tensor rotary_inv_freq(const ModelConfig& cfg, bool local) {
  const int64_t rd = cfg.rotary_dim;
  const double base = own_local_base(cfg, local) ? *cfg.rotary_base_local : cfg.rotary_base;
  // [rd/2]: base^(-2i/rd), computed as HF does (int64 arange → float).
  at::Tensor inv_freq =
      1.0 / at::pow(base, at::arange(0, rd, 2, at::kLong).to(at::kFloat) / double(rd));
  if (own_local_base(cfg, local)) return inv_freq;
  const RopeScaling& s = cfg.rope_scaling;
  if (s.type == "llama3") {
    const double old_ctx = double(s.original_max_position);
    const double low_wavelen = old_ctx / s.low_freq_factor;
    const double high_wavelen = old_ctx / s.high_freq_factor;
    at::Tensor wavelen = 2 * M_PI / inv_freq;
    // Long wavelengths are slowed by `factor`, short ones kept, the band between interpolated.
    at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
    at::Tensor smooth =
        (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    at::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv_freq = at::where(medium, smoothed, scaled);
  }
  return inv_freq;
}

std::pair<at::Tensor, at::Tensor> rotary_tables(const ModelConfig& cfg, const at::Tensor& positions,
                                                bool local) {
  at::Tensor inv_freq = rotary_inv_freq(cfg, local).to(positions.device());  // [rd/2]
  at::Tensor pos = positions.to(at::kFloat);
  if (cfg.rope_scaling.type == "linear" && !own_local_base(cfg, local))
    pos = pos / cfg.rope_scaling.factor;
  at::Tensor freqs = pos.unsqueeze(-1) * inv_freq;  // [batch, pos, rd/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(2);  // [batch, pos, 1, rd]
  return {emb.cos(), emb.sin()};
}

at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                        int64_t rotary_dim) {
  const int64_t d_head = x.size(-1);
  at::Tensor r = rotary_dim == d_head ? x : x.slice(-1, 0, rotary_dim);  // [b, p, h, rd]
  const int64_t half = rotary_dim / 2;
  at::Tensor rotated = at::cat({-r.slice(-1, half, rotary_dim), r.slice(-1, 0, half)}, -1);
  at::Tensor out = r * cos.to(x.scalar_type()) + rotated * sin.to(x.scalar_type());
  if (rotary_dim == d_head) return out;
  return at::cat({out, x.slice(-1, rotary_dim, d_head)}, -1);
}

}  // namespace mechscope
