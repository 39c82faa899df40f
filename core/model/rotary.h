#pragma once
/// Rotary position embeddings in the Hugging Face "rotate half" convention, with partial rotary
/// and `rope_scaling` (linear, llama3). Checkpoints that rotate adjacent pairs (llama2.c, GGUF)
/// are permuted to this convention at load.
#include <ATen/Tensor.h>

#include "core/model/config.h"

namespace mechscope {

/// Inverse frequencies [rotary_dim / 2] after scaling. `local`: those of the local layers of a
/// model with its own local base (ModelConfig::rotary_base_local: that base, unscaled).
at::Tensor rotary_inv_freq(const ModelConfig& cfg, bool local = false);

/// cos and sin tables [batch, pos, 1, rotary_dim] for integer `positions` [batch, pos] (`local`
/// as for rotary_inv_freq).
std::pair<at::Tensor, at::Tensor> rotary_tables(const ModelConfig& cfg, const at::Tensor& positions,
                                                bool local = false);

/// Rotates the first rotary_dim dims of each head of `x` [batch, pos, heads, d_head].
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                        int64_t rotary_dim);

}  // namespace mechscope
