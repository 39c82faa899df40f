#pragma once
/// The weights of the generic transformer in the layout the forward pass computes with
/// (`[out, in]`, like torch.nn.Linear, possibly a transposed view of the file's data, which BLAS
/// reads without a copy; Q, K and V fused into one matrix), plus read/write access
/// under TransformerLens names and shapes (`blocks.0.attn.W_Q` is [n_heads, d_model, d_head]).
#include <ATen/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "core/model/config.h"

namespace mechscope {

/// Canonical tensors as adapters produce them, keyed by slot name (all `[out, in]`):
/// `embed.weight` [d_vocab, d_model], `pos_embed.weight` [n_ctx, d_model],
/// `blocks.{L}.ln1.weight|bias`, `blocks.{L}.ln2.weight|bias` [d_model],
/// `blocks.{L}.attn.q.weight` [n_heads·d_head, d_model], `attn.k|v.weight` [n_kv_heads·d_head,
/// d_model], `attn.q|k|v.bias`, `blocks.{L}.attn.o.weight` [d_model, n_heads·d_head], `attn.o.bias`,
/// `blocks.{L}.mlp.gate.weight` [d_mlp, d_model] (gated MLPs), `mlp.in.weight` [d_mlp, d_model],
/// `mlp.in.bias`, `mlp.out.weight` [d_model, d_mlp], `mlp.out.bias`, `ln_final.weight|bias`,
/// `unembed.weight` [d_vocab, d_model] (absent when tied), `unembed.bias`; with sandwich norms
/// `blocks.{L}.ln1_post.weight`, `blocks.{L}.ln2_post.weight` [d_model]; with q/k norms
/// `blocks.{L}.attn.q_norm.weight`, `attn.k_norm.weight` [d_head]. Norm gains are the factor the
/// normalised vector is multiplied by (Gemma's stored w is loaded as 1 + w).
using CanonicalTensors = std::map<std::string, at::Tensor>;

struct LayerWeights {
  at::Tensor ln1_w, ln1_b, ln2_w, ln2_b;  // [d_model]
  at::Tensor ln1_post_w, ln2_post_w;       // [d_model] (use_normalization_before_and_after)
  at::Tensor q_norm_w, k_norm_w;           // [d_head] (use_qk_norm)
  at::Tensor qkv_w;                        // [(n_heads + 2 n_kv_heads) d_head, d_model]
  at::Tensor qkv_b;                        // [(n_heads + 2 n_kv_heads) d_head] or undefined
  at::Tensor o_w;                          // [d_model, n_heads d_head]
  at::Tensor o_b;                          // [d_model] or undefined
  at::Tensor gate_w;                       // [d_mlp, d_model] (gated MLP only)
  at::Tensor in_w;                         // [d_mlp, d_model]
  at::Tensor in_b;                         // [d_mlp] or undefined
  at::Tensor out_w;                        // [d_model, d_mlp]
  at::Tensor out_b;                        // [d_model] or undefined
};

class Weights {
 public:
  Weights() = default;
  /// Checks every expected tensor's presence and shape against `cfg` and assembles the compute
  /// layout. Throws mechscope::Error naming `source`, the tensor and both shapes.
  static Weights assemble(const ModelConfig& cfg, CanonicalTensors tensors,
                          const std::string& source);

  /// A TransformerLens-named weight with TransformerLens's shape, as a view (writes go through):
  /// `embed.W_E`, `pos_embed.W_pos`, `unembed.W_U`, `unembed.b_U`, `blocks.{L}.attn.W_Q|W_K|W_V`
  /// ([n_heads, d_model, d_head]; W_K/W_V have n_kv_heads heads unless `expand_kv`), `W_O`
  /// [n_heads, d_head, d_model], `b_Q|b_K|b_V` [heads, d_head], `b_O`, `blocks.{L}.mlp.W_in|W_gate`
  /// [d_model, d_mlp], `W_out` [d_mlp, d_model], `b_in`, `b_out`, `blocks.{L}.ln1|ln2.w|b`,
  /// `blocks.{L}.ln1_post|ln2_post.w`, `blocks.{L}.attn.q_norm|k_norm.w`, `ln_final.w|b`.
  /// Throws mechscope::Error for unknown names.
  at::Tensor tl(const std::string& name, bool expand_kv = false) const;
  /// Every name `tl()` answers for this model.
  std::vector<std::string> tl_names() const;

  void to(const at::TensorOptions& options);
  /// Every distinct tensor (a tied unembedding is the embedding, listed once), with a stable name
  /// for checkpoints and optimisers.
  std::vector<std::pair<std::string, at::Tensor*>> named_tensors();
  int64_t parameter_count() const;

  const ModelConfig& config() const { return cfg_; }

  at::Tensor embed;      // [d_vocab, d_model] (undefined for encoders)
  at::Tensor ln_pre_w, ln_pre_b;  // [d_model] the embedding norm (config.embed_norm)
  at::Tensor pos_embed;  // [n_ctx, d_model] (learned positions only)
  std::vector<LayerWeights> layers;
  at::Tensor lnf_w, lnf_b;          // [d_model]
  at::Tensor unembed_w;             // [d_vocab, d_model] (the embedding itself when tied)
  at::Tensor unembed_b;             // [d_vocab] or undefined

 private:
  ModelConfig cfg_;
};

}  // namespace mechscope
