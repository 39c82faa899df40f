#pragma once
/// The small SAE of discrete-SAE circuit finding (O'Neill & Bui 2024): one SAE over every head's
/// output, trained on a few examples, whose argmax latent is each (example, head)'s discrete code.
///   f = ReLU(W_enc (x − b) + c),  x̂ = W_dec f + b   (b tied: subtracted before encoding, added
///   after decoding; zero-initialised), decoder rows of unit norm,
///   loss = mean((x̂ − x)²) + λ · mean over rows of ‖f‖₁, Adam, full-batch epochs.
/// With `normalize` the rows are first multiplied by one constant that makes their mean L2 norm
/// √d (SAELens' expected_average_only_in), so λ does not depend on the activations' scale.
/// The trained SAE is an ordinary core/sae Sae (standard architecture, apply_b_dec_to_input), so
/// its encode/decode are the ones every SAE uses; the scale is folded into its weights, as SAELens
/// folds it when training ends, so it reads and writes the rows as given.
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
  bool normalize = true;  ///< Train on the rows × normalizing_scale(rows) (mean norm √d).
};

struct DiscreteSaeFit {
  sae::Sae sae;  ///< Reads the rows as given (input_scale folded into its weights).
  double input_scale = 1;  ///< The rows were multiplied by this for training (1 without normalize).
  /// Of the trained SAE on the training rows: `loss` the objective it minimised (on the scaled
  /// rows), `mse` the mean squared reconstruction error in the rows' own units, `l1` the mean L1
  /// of the latents (which scaling does not change once folded).
  double loss = 0, mse = 0, l1 = 0;
};

/// √d / (mean over the rows of x [n, d] of their L2 norm): the factor that makes the rows' mean
/// norm √d; 1 when every row is zero (there is nothing to scale).
double normalizing_scale(const at::Tensor& x);

/// Trains on the rows of `x` [n, d] (float; any device: training runs on the CPU in f32), scaled
/// by normalizing_scale(x) when options.normalize (the same codes for x and any c · x). The
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
