#include "core/model/weights.h"

#include <ATen/ATen.h>

#include <sstream>

#include "core/util/error.h"

namespace mechscope {
namespace {

std::string shape_str(at::IntArrayRef s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

class Taker {
 public:
  Taker(CanonicalTensors& t, const std::string& source) : t_(t), source_(source) {}
  at::Tensor operator()(const std::string& name, std::vector<int64_t> shape, bool required) {
    auto it = t_.find(name);
    if (it == t_.end()) {
      if (required) throw Error("Tensor '" + name + "' is missing in " + source_ + ".");
      return {};
    }
    at::Tensor x = it->second;
    if (x.sizes() != at::IntArrayRef(shape)) {
      throw Error("Tensor '" + name + "' in " + source_ + " has shape " + shape_str(x.sizes()) +
                  " but the configuration needs " + shape_str(shape) + ".");
    }
    if (x.scalar_type() != at::kFloat) x = x.to(at::kFloat);
    return x;
  }

 private:
  CanonicalTensors& t_;
  const std::string& source_;
};

at::Tensor cat_defined(const std::vector<at::Tensor>& parts) {
  for (const auto& p : parts)
    if (!p.defined()) return {};
  return at::cat(parts, 0);
}

}  // namespace

Weights Weights::assemble(const ModelConfig& cfg, CanonicalTensors tensors,
                          const std::string& source) {
  cfg.validate(source);
  Weights w;
  w.cfg_ = cfg;
  Taker take(tensors, source);
  const int64_t D = cfg.d_model, H = cfg.n_heads, KV = cfg.n_kv_heads, dh = cfg.d_head,
                M = cfg.d_mlp, V = cfg.d_vocab;
  const bool ln = cfg.norm == NormKind::LayerNorm;
  const bool lm = !cfg.is_encoder();
  w.embed = take("embed.weight", {V, D}, lm);
  if (cfg.embed_norm) {
    w.ln_pre_w = take("ln_pre.weight", {D}, true);
    w.ln_pre_b = take("ln_pre.bias", {D}, ln);
  }
  if (cfg.positional == Positional::Learned) w.pos_embed = take("pos_embed.weight", {cfg.n_ctx, D}, true);
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    LayerWeights L;
    L.ln1_w = take(p + "ln1.weight", {D}, true);
    L.ln1_b = take(p + "ln1.bias", {D}, ln);
    L.ln2_w = take(p + "ln2.weight", {D}, true);
    L.ln2_b = take(p + "ln2.bias", {D}, ln);
    if (cfg.use_normalization_before_and_after) {
      L.ln1_post_w = take(p + "ln1_post.weight", {D}, true);
      L.ln2_post_w = take(p + "ln2_post.weight", {D}, true);
    }
    if (cfg.use_qk_norm) {
      L.q_norm_w = take(p + "attn.q_norm.weight", {dh}, true);
      L.k_norm_w = take(p + "attn.k_norm.weight", {dh}, true);
    }
    at::Tensor q = take(p + "attn.q.weight", {H * dh, D}, true);
    at::Tensor k = take(p + "attn.k.weight", {KV * dh, D}, true);
    at::Tensor v = take(p + "attn.v.weight", {KV * dh, D}, true);
    // A checkpoint that stores Q, K and V fused in this order (GPT-2) is used as it is.
    at::Tensor fused = take(p + "attn.qkv.weight", {(H + 2 * KV) * dh, D}, false);
    L.qkv_w = fused.defined() ? fused : at::cat({q, k, v}, 0);
    at::Tensor fused_b = take(p + "attn.qkv.bias", {(H + 2 * KV) * dh}, false);
    L.qkv_b = fused_b.defined() ? fused_b
                                : cat_defined({take(p + "attn.q.bias", {H * dh}, cfg.attn_qkv_bias),
                                               take(p + "attn.k.bias", {KV * dh}, cfg.attn_qkv_bias),
                                               take(p + "attn.v.bias", {KV * dh}, cfg.attn_qkv_bias)});
    L.o_w = take(p + "attn.o.weight", {D, H * dh}, true);
    L.o_b = take(p + "attn.o.bias", {D}, cfg.attn_out_bias);
    if (cfg.gated_mlp) L.gate_w = take(p + "mlp.gate.weight", {M, D}, true);
    L.in_w = take(p + "mlp.in.weight", {M, D}, true);
    L.in_b = take(p + "mlp.in.bias", {M}, cfg.mlp_bias);
    L.out_w = take(p + "mlp.out.weight", {D, M}, true);
    L.out_b = take(p + "mlp.out.bias", {D}, cfg.mlp_bias);
    w.layers.push_back(std::move(L));
  }
  if (!lm) return w;
  w.lnf_w = take("ln_final.weight", {D}, true);
  w.lnf_b = take("ln_final.bias", {D}, ln);
  if (cfg.tied_embeddings) {
    w.unembed_w = w.embed;
  } else {
    w.unembed_w = take("unembed.weight", {V, D}, true);
  }
  w.unembed_b = take("unembed.bias", {V}, cfg.unembed_bias);
  return w;
}

at::Tensor Weights::tl(const std::string& name, bool expand_kv) const {
  const int64_t D = cfg_.d_model, H = cfg_.n_heads, KV = cfg_.n_kv_heads, dh = cfg_.d_head;
  auto or_zeros = [](const at::Tensor& t, at::IntArrayRef shape, const at::TensorOptions& o) {
    return t.defined() ? t : at::zeros(shape, o);
  };
  auto opts = layers.empty() ? at::TensorOptions() : layers[0].ln1_w.options();
  if (name == "embed.W_E" && embed.defined()) return embed;
  if (name == "pos_embed.W_pos" && pos_embed.defined()) return pos_embed;
  if (name == "unembed.W_U" && unembed_w.defined()) return unembed_w.t();
  if (name == "unembed.b_U" && unembed_w.defined()) return or_zeros(unembed_b, {cfg_.d_vocab}, opts);
  if (name == "ln_final.w" && lnf_w.defined()) return lnf_w;
  if (name == "ln_pre.w" && ln_pre_w.defined()) return ln_pre_w;
  if (name == "ln_pre.b" && ln_pre_b.defined()) return ln_pre_b;
  if (name == "ln_final.b" && lnf_b.defined()) return lnf_b;
  int layer = -1;
  char rest[64] = {0};
  if (std::sscanf(name.c_str(), "blocks.%d.%63s", &layer, rest) == 2 && layer >= 0 &&
      layer < cfg_.n_layers) {
    const LayerWeights& L = layers[layer];
    const std::string r = rest;
    auto kv_heads = [&](at::Tensor t) {  // [KV, ...] → [H, ...] when expanding
      return expand_kv && KV != H ? t.repeat_interleave(cfg_.n_groups(), 0) : t;
    };
    auto qkv_b = [&](int64_t begin, int64_t heads) {
      return L.qkv_b.defined() ? L.qkv_b.slice(0, begin * dh, (begin + heads) * dh).view({heads, dh})
                               : at::zeros({heads, dh}, opts);
    };
    if (r == "attn.W_Q") return L.qkv_w.slice(0, 0, H * dh).unflatten(0, {H, dh}).transpose(1, 2);
    if (r == "attn.W_K")
      return kv_heads(
          L.qkv_w.slice(0, H * dh, (H + KV) * dh).unflatten(0, {KV, dh}).transpose(1, 2));
    if (r == "attn.W_V")
      return kv_heads(L.qkv_w.slice(0, (H + KV) * dh, (H + 2 * KV) * dh)
                          .unflatten(0, {KV, dh})
                          .transpose(1, 2));
    if (r == "attn.W_O") return L.o_w.unflatten(1, {H, dh}).permute({1, 2, 0});
    if (r == "attn.b_Q") return qkv_b(0, H);
    if (r == "attn.b_K") return kv_heads(qkv_b(H, KV));
    if (r == "attn.b_V") return kv_heads(qkv_b(H + KV, KV));
    if (r == "attn.b_O") return or_zeros(L.o_b, {D}, opts);
    if (r == "mlp.W_in") return L.in_w.t();
    if (r == "mlp.W_gate" && L.gate_w.defined()) return L.gate_w.t();
    if (r == "mlp.W_out") return L.out_w.t();
    if (r == "mlp.b_in") return or_zeros(L.in_b, {cfg_.d_mlp}, opts);
    if (r == "mlp.b_out") return or_zeros(L.out_b, {D}, opts);
    if (r == "ln1.w") return L.ln1_w;
    if (r == "ln2.w") return L.ln2_w;
    if (r == "ln1_post.w" && L.ln1_post_w.defined()) return L.ln1_post_w;
    if (r == "ln2_post.w" && L.ln2_post_w.defined()) return L.ln2_post_w;
    if (r == "attn.q_norm.w" && L.q_norm_w.defined()) return L.q_norm_w;
    if (r == "attn.k_norm.w" && L.k_norm_w.defined()) return L.k_norm_w;
    if (r == "ln1.b" && L.ln1_b.defined()) return L.ln1_b;
    if (r == "ln2.b" && L.ln2_b.defined()) return L.ln2_b;
  }
  throw Error("Unknown weight name '" + name + "' for this " + cfg_.architecture +
              " model (use `mechscope-cli info` to list the names).");
}

std::vector<std::string> Weights::tl_names() const {
  std::vector<std::string> names;
  if (embed.defined()) names.push_back("embed.W_E");
  if (pos_embed.defined()) names.push_back("pos_embed.W_pos");
  const bool ln = cfg_.norm == NormKind::LayerNorm;
  if (ln_pre_w.defined()) names.push_back("ln_pre.w");
  if (ln_pre_b.defined()) names.push_back("ln_pre.b");
  for (int64_t l = 0; l < cfg_.n_layers; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    names.push_back(p + "ln1.w");
    if (ln) names.push_back(p + "ln1.b");
    for (const char* n : {"W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"})
      names.push_back(p + "attn." + n);
    if (cfg_.use_qk_norm) {
      names.push_back(p + "attn.q_norm.w");
      names.push_back(p + "attn.k_norm.w");
    }
    if (cfg_.use_normalization_before_and_after) names.push_back(p + "ln1_post.w");
    names.push_back(p + "ln2.w");
    if (ln) names.push_back(p + "ln2.b");
    names.push_back(p + "mlp.W_in");
    if (cfg_.gated_mlp) names.push_back(p + "mlp.W_gate");
    for (const char* n : {"W_out", "b_in", "b_out"}) names.push_back(p + "mlp." + n);
    if (cfg_.use_normalization_before_and_after) names.push_back(p + "ln2_post.w");
  }
  if (cfg_.is_encoder()) return names;
  names.push_back("ln_final.w");
  if (ln) names.push_back("ln_final.b");
  names.push_back("unembed.W_U");
  names.push_back("unembed.b_U");
  return names;
}

std::vector<std::pair<std::string, at::Tensor*>> Weights::named_tensors() {
  std::vector<std::pair<std::string, at::Tensor*>> out;
  auto add = [&](const std::string& name, at::Tensor& t) {
    if (t.defined()) out.emplace_back(name, &t);
  };
  add("embed", embed);
  add("pos_embed", pos_embed);
  add("ln_pre_w", ln_pre_w);
  add("ln_pre_b", ln_pre_b);
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerWeights& L = layers[l];
    const std::string p = "blocks." + std::to_string(l) + ".";
    const std::pair<const char*, at::Tensor*> fields[] = {
        {"ln1_w", &L.ln1_w}, {"ln1_b", &L.ln1_b}, {"ln2_w", &L.ln2_w}, {"ln2_b", &L.ln2_b},
        {"qkv_w", &L.qkv_w}, {"qkv_b", &L.qkv_b}, {"o_w", &L.o_w},     {"o_b", &L.o_b},
        {"gate_w", &L.gate_w}, {"in_w", &L.in_w}, {"in_b", &L.in_b},   {"out_w", &L.out_w},
        {"out_b", &L.out_b}, {"ln1_post_w", &L.ln1_post_w}, {"ln2_post_w", &L.ln2_post_w},
        {"q_norm_w", &L.q_norm_w}, {"k_norm_w", &L.k_norm_w}};
    for (const auto& [name, t] : fields) add(p + name, *t);
  }
  add("lnf_w", lnf_w);
  add("lnf_b", lnf_b);
  if (unembed_w.defined() && !unembed_w.is_same(embed)) add("unembed_w", unembed_w);
  add("unembed_b", unembed_b);
  return out;
}

void Weights::to(const at::TensorOptions& options) {
  const bool tied = unembed_w.defined() && embed.defined() && unembed_w.is_same(embed);
  for (auto& [name, t] : named_tensors()) *t = t->to(options);
  if (tied) unembed_w = embed;
}

int64_t Weights::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : const_cast<Weights*>(this)->named_tensors()) n += t->numel();
  return n;
}

}  // namespace mechscope
