#pragma once
/// The small SAE of discrete-SAE circuit finding (O'Neill & Bui 2024): one SAE over every head's
/// output, trained on a few examples, whose argmax latent is each (example, head)'s discrete code.
///   f = ReLU(W_enc (x − b) + c),  x̂ = W_dec f + b   (b tied: subtracted before encoding, added
///   after decoding; zero-initialised), decoder rows of unit norm,
///   loss = mean((x̂ − x)²) + λ · mean over rows of ‖f‖₁, Adam, full-batch epochs.
/// The trained SAE is an ordinary core/sae Sae (standard architecture, apply_b_dec_to_input), so
/// its encode/decode are the ones every SAE uses.
#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

#include "core/sae/sae.h"
#include "probes/probe.h"

namespace mechscope::probes {

struct DiscreteSaeOptions {
  int64_t latents = 200;
  double l1 = 0.02;  ///< λ
  int64_t epochs = 500;
  double lr = 1e-3;
  uint64_t seed = 0;  ///< Initial weights (drawn with std::mt19937_64: the same on every platform).
};

struct DiscreteSaeFit {
  sae::Sae sae;
  double loss = 0, mse = 0, l1 = 0;  ///< Of the trained SAE on the training rows.
};

/// Trains on the rows of `x` [n, d] (float; any device: training runs on the CPU in f32). The
/// decoder rows are kept at unit norm by training the direction: W_dec = V / ‖V‖ row-wise, V the
/// parameter (initialised as W_encᵀ; W_enc uniform in ±1/√d, c = b = 0). Reports progress from
/// `lo` to `hi` (and stops with mechscope::Cancelled when asked). Deterministic for a seed.
/// Throws mechscope::Error for x not [n ≥ 1, d ≥ 1] or options out of range.
DiscreteSaeFit train_discrete_sae(const at::Tensor& x, const DiscreteSaeOptions& options,
                                  const Progress& progress = {}, double lo = 0, double hi = 1);

/// The code of each row of `x` [n, d]: the index of its largest latent, or −1 when no latent is
/// active (all zero after the ReLU) — so "nothing fired" is a code of its own.
std::vector<int64_t> sae_codes(const sae::Sae& sae, const at::Tensor& x);

}  // namespace mechscope::probes
