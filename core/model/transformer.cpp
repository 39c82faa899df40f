// The hooked forward pass of the generic transformer.
#include <ATen/ATen.h>

#include <limits>
#include <vector>

#include "core/model/activation.h"
#include "core/model/kv_cache.h"
#include "core/model/model.h"
#include "core/model/rotary.h"
#include "core/util/cancel.h"
#include "core/util/error.h"
#include "core/util/gemm.h"

namespace mechscope {
namespace {

struct StopForward {};

/// Gemma 2's soft-capping: cap·tanh(x / cap), a smooth clamp to (-cap, cap); none when cap ≤ 0.
at::Tensor soft_cap(const at::Tensor& x, double cap) {
  return cap > 0 ? at::tanh(x / cap) * cap : x;
}

/// x [..., in] · wᵀ + b → [..., out] (`w` [out, in], `b` [out] or undefined): oneDNN's sgemm when
/// the process has it (core/util/gemm.h). Without it, a single f32 row on the CPU (generation's
/// one new token) is a matrix–vector product: OpenBLAS's GEMM with one row reads the weight about
/// 3× slower than its GEMV (SmolLM2-135M: 143 of 163 ms per generated token were one-row GEMMs).
at::Tensor affine(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {}) {
  if (fast_cpu_gemm() || x.numel() != x.size(-1) || !x.device().is_cpu() ||
      x.scalar_type() != at::kFloat || w.scalar_type() != at::kFloat)
    return mechscope::linear(x, w, b);
  const at::Tensor row = x.reshape({-1});                              // [in]
  at::Tensor y = b.defined() ? at::addmv(b, w, row) : at::mv(w, row);  // [out]
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = w.size(0);
  return y.view(shape);  // [..., out]
}

/// Which keys each query may attend to: [q, k] bool for queries at absolute positions past …
/// past + T - 1 and keys at 0 … past + T - 1 (a KV cache's and the run's own), causal and/or
/// inside a sliding window (a key fewer than `window` positions before the query). Undefined
/// when every query may attend to every key (one query after a cache, no window reached), so the
/// run skips masking.
at::Tensor allowed_keys(bool causal, std::optional<int64_t> window, int64_t past, int64_t T,
                        at::Device dev) {
  const auto opts = at::TensorOptions().dtype(at::kLong).device(dev);
  const bool causal_binds = causal && T > 1;                    // a new key after a new query
  const bool window_binds = window && past + T - 1 >= *window;  // a key out of some query's window
  if (!causal_binds && !window_binds) return {};
  at::Tensor q = at::arange(past, past + T, opts).unsqueeze(1);  // [q, 1] query positions
  at::Tensor k = at::arange(past + T, opts).unsqueeze(0);        // [1, k] key positions
  at::Tensor allowed;                                            // [q, k]
  if (causal_binds) allowed = q >= k;
  if (window_binds) {
    at::Tensor inside = (q - k) < *window;
    allowed = allowed.defined() ? allowed.logical_and(inside) : inside;
  }
  return allowed;
}

}  // namespace

/// Per-call state: subscriptions resolved to hook-point indices, masks and rotary tables.
struct Model::Run {
  std::vector<std::vector<const HookFn*>> table;  // [hook point index] → subscribers
  bool any = false;
  // [batch or 1, 1, q, k] bool: causal ∧ key is real; undefined when every key is allowed.
  at::Tensor allowed;
  at::Tensor allowed_local;  // the same ∧ inside the sliding window (models with local layers)
  at::Tensor cos, sin;       // [batch, pos, 1, rotary_dim] at the queries' absolute positions
  at::Tensor cos_local, sin_local;  // local layers' tables (models with rotary_base_local)
  const HookPoints* points = nullptr;
  KVCache* cache = nullptr;  // keys and values of earlier positions (generation); may be null

  bool wants(HookKind kind, int layer) const {
    return any && !table[HookPoints::index(kind, layer)].empty();
  }
  /// Calls the subscribers of a point; they may replace `x` or stop the run.
  void hook(HookKind kind, int layer, at::Tensor& x) const {
    if (!any) return;
    const auto& subs = table[HookPoints::index(kind, layer)];
    if (subs.empty()) return;
    const std::string& name = points->name(HookPoints::index(kind, layer));  // never empty here
    for (const HookFn* fn : subs) {
      HookCall call{name, layer, kind, x};
      (*fn)(call);
      if (call.stop) throw StopForward{};
    }
  }
};

ForwardOutput Model::run(const at::Tensor& tokens_in, const at::Tensor& mask_in,
                         const HookSet* hooks, KVCache* cache) const {
  if (tokens_in.dim() != 2)
    throw Error("Tokens must be a [batch, pos] tensor, got " + std::to_string(tokens_in.dim()) +
                " dimensions.");
  if (tokens_in.numel() == 0) throw Error("Cannot run the model on an empty prompt.");
  if (cfg_.is_encoder()) throw Error("This model is an encoder: it reads embeddings, not tokens.");
  at::Tensor tokens = tokens_in.to(at::kLong);
  {
    const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
    if (lo < 0 || hi >= cfg_.d_vocab)
      throw Error("Token id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary " +
                  "(d_vocab = " + std::to_string(cfg_.d_vocab) + ").");
  }
  tokens = tokens.to(device());
  return run_embeds(embed_tokens(tokens), mask_in, hooks, cache);
}

at::Tensor Model::embed_tokens(const at::Tensor& ids) const {
  std::vector<int64_t> shape = ids.sizes().vec();
  shape.push_back(cfg_.d_model);
  at::Tensor e = weights_.embed.index_select(0, ids.to(device()).reshape(-1)).view(shape);
  // Gemma multiplies by √d_model as a tensor of the model's dtype (HF: the normaliser is cast
  // to the hidden dtype, so bf16 models use the bf16-rounded factor).
  if (cfg_.embed_scale != 1.0) e = e * at::scalar_tensor(cfg_.embed_scale, e.options());
  return e;
}

ForwardOutput Model::run_embeds(const at::Tensor& embeds, const at::Tensor& mask_in,
                                const HookSet* hooks, KVCache* cache) const {
  if (embeds.dim() != 3 || embeds.size(2) != cfg_.d_model)
    throw Error("Input embeddings must be [batch, pos, d_model = " +
                std::to_string(cfg_.d_model) + "].");
  return forward_from(-1, embeds, mask_in, hooks, cache);
}

ForwardOutput Model::run_from(int layer, const at::Tensor& resid_pre, const at::Tensor& mask_in,
                              const HookSet* hooks) const {
  if (layer < 0 || layer > cfg_.n_layers)
    throw Error("Cannot start a forward pass at layer " + std::to_string(layer) + " of a model with " +
                std::to_string(cfg_.n_layers) + " layers.");
  if (resid_pre.dim() != 3 || resid_pre.size(2) != cfg_.d_model)
    throw Error("The residual stream must be [batch, pos, d_model = " +
                std::to_string(cfg_.d_model) + "].");
  return forward_from(layer, resid_pre, mask_in, hooks);
}

ForwardOutput Model::forward_from(int start, const at::Tensor& input, const at::Tensor& mask_in,
                                  const HookSet* hooks, KVCache* cache) const {
  const int64_t B = input.size(0), T = input.size(1);
  if (B == 0 || T == 0) throw Error("Cannot run the model on an empty prompt.");
  const int64_t past = cache != nullptr ? cache->length() : 0;  // positions before this run's
  if (past > 0 && past + T > cfg_.n_ctx)
    throw Error("The KV cache holds " + std::to_string(past) + " positions; with " +
                std::to_string(T) + " more the sequence is longer than the model's context of " +
                std::to_string(cfg_.n_ctx) + " tokens (n_ctx).");
  if (T > cfg_.n_ctx)
    throw Error("The prompt is " + std::to_string(T) + " tokens long, longer than the model's " +
                "context of " + std::to_string(cfg_.n_ctx) + " tokens (n_ctx).");
  if (cache != nullptr && mask_in.defined())
    throw Error("A run with a KV cache takes no attention mask (padded batches are not cached).");
  const at::Device dev = device();

  Run run;
  run.points = &points_;
  run.cache = cache;
  if (cache != nullptr) cache->prepare(cfg_, B, T, at::TensorOptions().dtype(dtype()).device(dev));
  const HookSet* standing = standing_hooks();
  const bool has_standing = standing != nullptr && !standing->empty();
  if (has_standing || (hooks != nullptr && !hooks->empty())) {
    run.table.assign(points_.table_size(), {});
    for (int i = 0; i < points_.table_size(); ++i) {
      const std::string& name = points_.name(i);
      if (name.empty()) continue;
      const auto [kind, layer] = HookPoints::locate(i);
      for (const HookSet* set : {has_standing ? standing : nullptr, hooks}) {
        if (set == nullptr) continue;
        for (const auto& s : set->subscriptions())
          if (s.matches(name, kind, layer, points_.prefix())) run.table[i].push_back(&s.fn);
      }
      run.any = run.any || !run.table[i].empty();
    }
  }

  // Positions count real tokens only, so left- and right-padded prompts see the positions they
  // would see alone; after a KV cache they continue its positions.
  at::Tensor mask;       // [batch, pos] bool
  at::Tensor positions;  // [batch, pos]
  if (mask_in.defined()) {
    if (mask_in.dim() != 2 || mask_in.size(0) != B || mask_in.size(1) != T)
      throw Error("The attention mask's shape does not match the input's [batch, pos].");
    mask = mask_in.to(dev).to(at::kBool);
    positions = (mask.to(at::kLong).cumsum(1) - 1).clamp_min(0);
  } else {
    positions =
        at::arange(past, past + T, at::TensorOptions().dtype(at::kLong).device(dev)).expand({B, T});
  }
  // [q, k] → [batch or 1, 1, q, k] with padded keys masked (a mask means no cache: k = q = T);
  // undefined stays undefined (every key allowed) without padding.
  auto with_padding = [&](const at::Tensor& a) {
    const at::Tensor real = mask.defined() ? mask.view({B, 1, 1, T}) : at::Tensor();
    if (!a.defined()) return real;
    const at::Tensor a4 = a.view({1, 1, T, past + T});
    return real.defined() ? a4.logical_and(real) : a4;
  };
  run.allowed = with_padding(allowed_keys(cfg_.causal, std::nullopt, past, T, dev));
  const bool local_layers = cfg_.has_local_layers();
  if (local_layers)  // a query sees the keys fewer than sliding_window positions back
    run.allowed_local = with_padding(allowed_keys(cfg_.causal, cfg_.sliding_window, past, T, dev));
  if (cfg_.positional == Positional::Rotary) {
    std::tie(run.cos, run.sin) = rotary_tables(cfg_, positions);
    if (local_layers && cfg_.rotary_base_local)
      std::tie(run.cos_local, run.sin_local) = rotary_tables(cfg_, positions, /*local=*/true);
  }

  ForwardOutput out;
  try {
    at::Tensor x = input.to(dev).to(dtype());  // [batch, pos, d_model]
    if (start < 0) {  // from the embeddings
      at::Tensor embed = x;
      run.hook(HookKind::Embed, -1, embed);
      x = embed;
      if (cfg_.positional == Positional::Learned) {
        at::Tensor pos_embed =
            weights_.pos_embed.index_select(0, positions.reshape(-1)).view({B, T, cfg_.d_model});
        run.hook(HookKind::PosEmbed, -1, pos_embed);
        x = embed + pos_embed;
      }
      if (cfg_.embed_norm)
        x = at::layer_norm(x, {cfg_.d_model}, weights_.ln_pre_w, weights_.ln_pre_b, cfg_.norm_eps);
      start = 0;
    }
    for (int l = start; l < cfg_.n_layers; ++l) {
      throw_if_cancelled();  // a job's Cancel stops it within one block (core/util/cancel.h)
      x = block(run, l, x);
    }
    if (cache != nullptr) cache->commit(T);  // every layer appended this run's keys and values
    out.resid = x;
    if (cfg_.is_encoder()) return out;
    at::Tensor xf = norm(run, x, weights_.lnf_w, weights_.lnf_b, HookKind::LnFinalScale,
                         HookKind::LnFinalNormalized, -1);  // [batch, pos, d_model]
    out.logits = soft_cap(affine(xf, weights_.unembed_w, weights_.unembed_b),
                          cfg_.output_logits_soft_cap);  // [batch, pos, d_vocab]
  } catch (const StopForward&) {
    out.stopped = true;
  }
  return out;
}

at::Tensor Model::unembed(const at::Tensor& resid) const {
  if (cfg_.is_encoder()) throw Error("This model is an encoder: it has no unembedding.");
  if (resid.dim() < 1 || resid.size(-1) != cfg_.d_model)
    throw Error("Residual-stream vectors must end in d_model = " + std::to_string(cfg_.d_model) + ".");
  Run run;  // no subscriptions
  run.points = &points_;
  at::Tensor x = resid.to(device()).to(dtype());
  at::Tensor xf = norm(run, x, weights_.lnf_w, weights_.lnf_b, HookKind::LnFinalScale,
                       HookKind::LnFinalNormalized, -1);  // [..., d_model]
  return soft_cap(affine(xf, weights_.unembed_w, weights_.unembed_b),
                  cfg_.output_logits_soft_cap);  // [..., d_vocab]
}

at::Tensor Model::norm(Run& run, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                       HookKind scale_kind, HookKind normalized_kind, int layer) const {
  const bool hooked = run.wants(scale_kind, layer) || run.wants(normalized_kind, layer);
  if (x.scalar_type() != at::kFloat) {
    // Norm statistics in f32 for f16/bf16 models (as HF does).
    return norm(run, x.to(at::kFloat), w.to(at::kFloat), b.defined() ? b.to(at::kFloat) : b,
                scale_kind, normalized_kind, layer)
        .to(x.scalar_type());
  }
  if (cfg_.norm == NormKind::LayerNorm) {
    if (!hooked) return at::layer_norm(x, {x.size(-1)}, w, b, cfg_.norm_eps);
    at::Tensor centred = x - x.mean(-1, true);
    at::Tensor scale = (centred.pow(2).mean(-1, true) + cfg_.norm_eps).sqrt();  // [b, p, 1]
    run.hook(scale_kind, layer, scale);
    at::Tensor normalized = centred / scale;
    run.hook(normalized_kind, layer, normalized);
    return at::addcmul(b, normalized, w);
  }
  at::Tensor scale = (x.pow(2).mean(-1, true) + cfg_.norm_eps).sqrt();  // [b, p, 1]
  run.hook(scale_kind, layer, scale);
  at::Tensor normalized = hooked ? x / scale : x * scale.reciprocal();
  run.hook(normalized_kind, layer, normalized);
  return normalized * w;
}

at::Tensor Model::block(Run& run, int l, at::Tensor x) const {
  const LayerWeights& L = weights_.layers[l];
  run.hook(HookKind::ResidPre, l, x);
  at::Tensor resid_pre = x;  // [batch, pos, d_model]
  at::Tensor attn_in = norm(run, resid_pre, L.ln1_w, L.ln1_b, HookKind::Ln1Scale,
                            HookKind::Ln1Normalized, l);
  at::Tensor attn_out = attention(run, l, attn_in);
  // Gemma 2/3 normalise what attention and the MLP write (ln1_post, ln2_post) before it joins
  // the residual stream; hook_attn_out / hook_mlp_out see the normalised output.
  if (cfg_.use_normalization_before_and_after)
    attn_out = norm(run, attn_out, L.ln1_post_w, {}, HookKind::Ln1PostScale,
                    HookKind::Ln1PostNormalized, l);
  run.hook(HookKind::AttnOut, l, attn_out);
  auto mlp_block = [&](const at::Tensor& resid) {
    at::Tensor mlp_in =
        norm(run, resid, L.ln2_w, L.ln2_b, HookKind::Ln2Scale, HookKind::Ln2Normalized, l);
    at::Tensor mlp_out = mlp(run, l, mlp_in);
    if (cfg_.use_normalization_before_and_after)
      mlp_out = norm(run, mlp_out, L.ln2_post_w, {}, HookKind::Ln2PostScale,
                     HookKind::Ln2PostNormalized, l);
    run.hook(HookKind::MlpOut, l, mlp_out);
    return mlp_out;
  };
  at::Tensor resid_post;
  if (cfg_.parallel_attn_mlp) {
    at::Tensor mlp_out = mlp_block(resid_pre);
    resid_post = resid_pre + attn_out + mlp_out;
  } else {
    at::Tensor resid_mid = resid_pre + attn_out;
    run.hook(HookKind::ResidMid, l, resid_mid);
    at::Tensor mlp_out = mlp_block(resid_mid);
    resid_post = resid_mid + mlp_out;
  }
  run.hook(HookKind::ResidPost, l, resid_post);
  return resid_post;
}

at::Tensor Model::attention(Run& run, int l, const at::Tensor& x) const {
  const LayerWeights& L = weights_.layers[l];
  const int64_t B = x.size(0), T = x.size(1), H = cfg_.n_heads, KV = cfg_.n_kv_heads,
                dh = cfg_.d_head;
  at::Tensor qkv = affine(x, L.qkv_w, L.qkv_b);  // [batch, pos, (H + 2 KV) d_head]
  at::Tensor q = qkv.slice(-1, 0, H * dh).view({B, T, H, dh});
  at::Tensor k = qkv.slice(-1, H * dh, (H + KV) * dh).view({B, T, KV, dh});
  at::Tensor v = qkv.slice(-1, (H + KV) * dh, (H + 2 * KV) * dh).view({B, T, KV, dh});
  run.hook(HookKind::Q, l, q);
  run.hook(HookKind::K, l, k);
  run.hook(HookKind::V, l, v);
  if (cfg_.use_qk_norm) {  // Gemma 3: each query and key head RMS-normalised over d_head
    q = norm(run, q, L.q_norm_w, {}, HookKind::QNormScale, HookKind::QNormNormalized, l);
    k = norm(run, k, L.k_norm_w, {}, HookKind::KNormScale, HookKind::KNormNormalized, l);
  }
  const bool local = cfg_.is_local(l);
  if (cfg_.positional == Positional::Rotary) {
    // Local layers of Gemma 3 rotate with their own base.
    const bool own = local && run.cos_local.defined();
    const at::Tensor& cos = own ? run.cos_local : run.cos;
    const at::Tensor& sin = own ? run.sin_local : run.sin;
    q = apply_rotary(q, cos, sin, cfg_.rotary_dim);
    k = apply_rotary(k, cos, sin, cfg_.rotary_dim);
    run.hook(HookKind::RotQ, l, q);
    run.hook(HookKind::RotK, l, k);
  }
  at::Tensor qh = q.transpose(1, 2);  // [batch, H, pos, d_head]
  at::Tensor kh = k.transpose(1, 2);  // [batch, KV, keys, d_head]
  at::Tensor vh = v.transpose(1, 2);  // [batch, KV, keys, d_head]
  // A hook on k (rot_k for rotary models) and v may prepend keys and values of earlier positions
  // that every query follows (a cached prefix: patching sweeps recompute only the positions a
  // patch can change); those keys are allowed to every query.
  at::Tensor allowed = local ? run.allowed_local : run.allowed;  // [batch or 1, 1, q, k] or none
  const int64_t prefix = kh.size(2) - T;
  if (prefix != 0 || vh.size(2) != kh.size(2)) {
    if (prefix < 0 || vh.size(2) != kh.size(2))
      throw Error("A hook gave layer " + std::to_string(l) + " keys and values of " +
                  std::to_string(kh.size(2)) + " and " + std::to_string(vh.size(2)) +
                  " positions for " + std::to_string(T) + " queries; they must be equal, and " +
                  "at least as many as the queries.");
    if (run.cache != nullptr)
      throw Error("A hook gave layer " + std::to_string(l) + " keys and values of earlier " +
                  "positions in a run with a KV cache, which already holds the earlier positions.");
    if (allowed.defined())
      allowed = at::cat({at::ones({allowed.size(0), 1, T, prefix}, allowed.options()),
                         allowed.expand({allowed.size(0), 1, T, T})},
                        -1);
  }
  // With a KV cache: this run's keys and values are written after the cached ones, and attention
  // reads all of them (views of the cache's storage, no copy).
  if (run.cache != nullptr)
    std::tie(kh, vh) = run.cache->append(l, kh, vh);  // [batch, KV, cached + pos, d_head]
  const int64_t Tk = kh.size(2), G = cfg_.n_groups();
  // Gemma 2/3 divide by √query_pre_attn_scalar instead of √d_head.
  const double scale = 1.0 / cfg_.attn_scale.value_or(std::sqrt(double(dh)));
  // Query head h reads key/value head h / G (grouped-query attention). f32 inference on the CPU
  // with oneDNN: one product per (batch, head), read in place from the strided q, k and v (the
  // key and value heads expanded, not copied) and written straight into z's [batch, pos, H,
  // d_head] layout. Otherwise the G query heads of a group are G·pos rows of one product.
  const bool fast = fast_gemm_takes({&qh, &kh, &vh});
  at::Tensor scores;  // [batch, H, q, k], f32 even for f16/bf16 weights (as HF does)
  if (fast) {
    scores = batched_matmul(qh.reshape({B, KV, G, T, dh}),
                            kh.unsqueeze(2).expand({B, KV, G, Tk, dh}).transpose(-1, -2), scale)
                 .view({B, H, T, Tk});
  } else {
    scores = at::matmul(qh.reshape({B, KV, G * T, dh}), kh.transpose(-1, -2))
                 .view({B, H, T, Tk})
                 .to(at::kFloat)
                 .mul_(scale);
  }
  // Gemma 2 soft-caps the scores before masking.
  scores = soft_cap(scores, cfg_.attn_scores_soft_cap);
  // Masked entries get the lowest float, so a row with no allowed key (a padding query) becomes
  // uniform instead of NaN.
  if (allowed.defined())
    scores.masked_fill_(allowed.logical_not(), std::numeric_limits<float>::lowest());
  run.hook(HookKind::AttnScores, l, scores);
  at::Tensor pattern = at::softmax(scores, -1);  // [batch, H, q, k]
  run.hook(HookKind::Pattern, l, pattern);
  at::Tensor z;  // [batch, pos, H, d_head]
  if (fast && fast_gemm_takes({&pattern})) {
    at::Tensor out = at::empty({B, T, H, dh}, vh.options());
    z = batched_matmul(pattern.reshape({B, KV, G, T, Tk}),
                       vh.unsqueeze(2).expand({B, KV, G, Tk, dh}), 1.0,
                       out.view({B, T, KV, G, dh}).permute({0, 2, 3, 1, 4}))
            .permute({0, 3, 1, 2, 4})
            .reshape({B, T, H, dh});
  } else {
    z = at::matmul(pattern.to(vh.scalar_type()).reshape({B, KV, G * T, Tk}), vh)
            .view({B, H, T, dh})
            .transpose(1, 2);
  }
  run.hook(HookKind::Z, l, z);
  if (run.wants(HookKind::Result, l)) {
    at::Tensor w_o = L.o_w.unflatten(1, {H, dh}).permute({1, 2, 0});  // [H, d_head, d_model]
    at::Tensor result;                                                // [batch, pos, H, d_model]
    if (fast_gemm_takes({&z, &w_o})) {
      const int64_t D = cfg_.d_model;
      at::Tensor out = at::empty({B, T, H, D}, z.options());
      // One product per head over every (batch, pos) row: [H, B·T, d_head] · [H, d_head, D].
      batched_matmul(z.reshape({B * T, H, dh}).transpose(0, 1), w_o, 1.0,
                     out.view({B * T, H, D}).transpose(0, 1));
      result = out;
    } else {
      result = at::bmm(z.reshape({B * T, H, dh}).transpose(0, 1), w_o)  // [H, BT, D]
                   .transpose(0, 1)
                   .view({B, T, H, cfg_.d_model});
    }
    run.hook(HookKind::Result, l, result);
    // The output is the sum of the heads' results, so a replacement or an in-place edit of any
    // head takes effect (inference tensors have no version counter to tell an edit apart).
    at::Tensor out = result.sum(2);
    return L.o_b.defined() ? out + L.o_b : out;
  }
  return affine(z.reshape({B, T, H * dh}), L.o_w, L.o_b);  // [batch, pos, d_model]
}

at::Tensor Model::mlp(Run& run, int l, const at::Tensor& x) const {
  const LayerWeights& L = weights_.layers[l];
  at::Tensor post;  // [batch, pos, d_mlp]
  if (cfg_.gated_mlp) {
    at::Tensor pre = affine(x, L.gate_w);
    run.hook(HookKind::MlpPre, l, pre);
    at::Tensor pre_linear = affine(x, L.in_w, L.in_b);
    run.hook(HookKind::MlpPreLinear, l, pre_linear);
    post = activate(cfg_.act, pre) * pre_linear;
  } else {
    at::Tensor pre = affine(x, L.in_w, L.in_b);
    run.hook(HookKind::MlpPre, l, pre);
    post = activate(cfg_.act, pre);
  }
  run.hook(HookKind::MlpPost, l, post);
  return affine(post, L.out_w, L.out_b);  // [batch, pos, d_model]
}

}  // namespace mechscope
