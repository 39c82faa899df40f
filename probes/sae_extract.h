#pragma once
/// SAE feature extraction over rows of activations, as the `sae_features` probe and
/// tests/bench/bench_sae.cpp run it: the latents, each row's relative reconstruction error and
/// its strongest latents. For the usual SAEs (standard or jumprelu, no input normalisation) the
/// encoder is one addmm with the ReLU / threshold applied in place and the decoder one addmm
/// whose result becomes the error in place; other configurations go through sae::Sae::encode /
/// decode. Either way the latents equal Sae::encode's.
#include <ATen/Tensor.h>

#include <cstdint>

#include "core/sae/sae.h"

namespace mechscope::probes {

struct FeatureExtraction {
  at::Tensor acts;        ///< [rows, d_sae] latent activations (the SAE's dtype and device)
  at::Tensor error;       ///< [rows] ‖x − x̂‖ / ‖x‖ (0 where x and x̂ are both 0, inf where only x is)
  at::Tensor top_values;  ///< [rows, k] largest activations, best first (float32, CPU)
  at::Tensor top_ids;     ///< [rows, k] their latent indices (int64, CPU; ties by lower index)
};

/// Extracts the features of `x` [rows, d_in]. `k` is clamped to [1, d_sae].
FeatureExtraction extract_features(const sae::Sae& sae, const at::Tensor& x, int64_t k);

/// The activations [rows, ids] of the latents `ids` (int64 [n]) only: for standard and jumprelu
/// SAEs only those columns of W_enc are multiplied; topk SAEs encode every latent (a latent's
/// value depends on the others), `chunk_rows` rows at a time, and keep the asked ones.
at::Tensor encode_latents(const sae::Sae& sae, const at::Tensor& x, const at::Tensor& ids,
                          int64_t chunk_rows = 1024);


}  // namespace mechscope::probes
