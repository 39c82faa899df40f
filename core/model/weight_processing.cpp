#include "core/model/weight_processing.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

const std::vector<std::string>& step_names() {
  static const std::vector<std::string> n = {"fold_ln", "center_writing_weights", "center_unembed",
                                             "fold_value_biases"};
  return n;
}

/// Computes in f32 (or better) and returns in the weight's own dtype and device.
struct Precise {
  at::ScalarType dtype;
  at::Tensor in(const at::Tensor& t) const { return t.to(at::kFloat); }
  at::Tensor out(const at::Tensor& t) const { return t.to(dtype).contiguous(); }
};

/// `w` [out, in] reading a norm's output: y = w (g ⊙ x̂ + b) + c = (w ⊙ g) x̂ + (w b + c).
/// Returns the folded weight (centred over `in` for LayerNorm) and sets `bias` to the new bias.
at::Tensor fold_into(const Precise& p, const at::Tensor& w, at::Tensor& bias, const at::Tensor& g,
                     const at::Tensor& b, bool center) {
  at::Tensor W = p.in(w);
  if (b.defined()) {
    at::Tensor extra = at::matmul(W, p.in(b));  // [out]
    bias = p.out(bias.defined() ? p.in(bias) + extra : extra);
  }
  W = W * p.in(g).unsqueeze(0);
  if (center) W = W - W.mean(1, true);
  return p.out(W);
}

/// `w` [d_model, …] writing to the residual stream: centred over d_model (dim `dim`).
at::Tensor centred(const Precise& p, const at::Tensor& w, int64_t dim) {
  if (!w.defined()) return w;
  at::Tensor W = p.in(w);
  return p.out(W - W.mean(dim, true));
}

}  // namespace

std::vector<std::string> WeightProcessing::names() const {
  std::vector<std::string> out;
  const bool on[] = {fold_ln, center_writing_weights, center_unembed, fold_value_biases};
  for (size_t i = 0; i < 4; ++i)
    if (on[i]) out.push_back(step_names()[i]);
  return out;
}

WeightProcessing WeightProcessing::parse(const std::string& list) {
  WeightProcessing p;
  size_t begin = 0;
  while (begin <= list.size()) {
    size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(begin, end - begin);
    begin = end + 1;
    if (item.empty() || item == "none") continue;
    if (item == "all") {
      p = {true, true, true, true};
    } else if (item == "fold_ln") {
      p.fold_ln = true;
    } else if (item == "center_writing_weights") {
      p.center_writing_weights = true;
    } else if (item == "center_unembed") {
      p.center_unembed = true;
    } else if (item == "fold_value_biases") {
      p.fold_value_biases = true;
    } else {
      throw Error("Unknown weight processing step '" + item +
                  "'; choose from fold_ln, center_writing_weights, center_unembed, "
                  "fold_value_biases (or all, none).");
    }
  }
  return p;
}

std::vector<std::string> process_weights(Model& model, const WeightProcessing& steps) {
  const ModelConfig& c = model.config();
  if (c.is_encoder()) throw Error("Weight processing needs a model with an unembedding.");
  std::vector<std::string> applied;
  if (!steps.any()) return applied;
  c10::InferenceMode guard;
  Weights& w = model.weights();
  const Precise p{w.embed.scalar_type()};
  const bool layer_norm = c.norm == NormKind::LayerNorm;
  const int64_t H = c.n_heads, KV = c.n_kv_heads, dh = c.d_head;
  // The unembedding gets its own tensor before anything changes the embedding or it.
  if (w.unembed_w.is_same(w.embed)) w.unembed_w = w.embed.clone();

  if (steps.fold_ln) {
    for (const LayerWeights& L : w.layers)
      if (L.gate_w.defined() && L.ln2_b.defined())
        throw Error("Cannot fold a LayerNorm bias into a gated MLP's gate, which has no bias.");
    for (LayerWeights& L : w.layers) {
      L.qkv_w = fold_into(p, L.qkv_w, L.qkv_b, L.ln1_w, L.ln1_b, layer_norm);
      at::Tensor unused;  // the gate has no bias: checked above that the norm has none either
      if (L.gate_w.defined()) L.gate_w = fold_into(p, L.gate_w, unused, L.ln2_w, at::Tensor(), layer_norm);
      L.in_w = fold_into(p, L.in_w, L.in_b, L.ln2_w, L.ln2_b, layer_norm);
      L.ln1_w = at::ones_like(L.ln1_w);
      L.ln2_w = at::ones_like(L.ln2_w);
      if (L.ln1_b.defined()) L.ln1_b = at::zeros_like(L.ln1_b);
      if (L.ln2_b.defined()) L.ln2_b = at::zeros_like(L.ln2_b);
    }
    w.unembed_w = fold_into(p, w.unembed_w, w.unembed_b, w.lnf_w, w.lnf_b, layer_norm);
    w.lnf_w = at::ones_like(w.lnf_w);
    if (w.lnf_b.defined()) w.lnf_b = at::zeros_like(w.lnf_b);
    applied.push_back("fold_ln");
  }
  if (steps.center_writing_weights && layer_norm) {
    w.embed = centred(p, w.embed, 1);
    w.pos_embed = centred(p, w.pos_embed, 1);
    for (LayerWeights& L : w.layers) {
      L.o_w = centred(p, L.o_w, 0);    // [d_model, H d_head]
      L.o_b = centred(p, L.o_b, 0);    // [d_model]
      L.out_w = centred(p, L.out_w, 0);  // [d_model, d_mlp]
      L.out_b = centred(p, L.out_b, 0);
    }
    applied.push_back("center_writing_weights");
  }
  if (steps.center_unembed && c.output_logits_soft_cap <= 0) {
    w.unembed_w = centred(p, w.unembed_w, 0);  // [d_vocab, d_model]: over the vocabulary
    w.unembed_b = centred(p, w.unembed_b, 0);
    applied.push_back("center_unembed");
  }
  if (steps.fold_value_biases) {
    for (LayerWeights& L : w.layers) {
      if (!L.qkv_b.defined()) continue;
      at::Tensor b_v = p.in(L.qkv_b.slice(0, (H + KV) * dh, (H + 2 * KV) * dh)).view({KV, dh});
      if (KV != H) b_v = b_v.repeat_interleave(c.n_groups(), 0);  // [H, d_head]
      const at::Tensor extra = at::matmul(p.in(L.o_w), b_v.reshape({H * dh}));  // [d_model]
      L.o_b = p.out(L.o_b.defined() ? p.in(L.o_b) + extra : extra);
      at::Tensor qkv_b = p.in(L.qkv_b).clone();
      qkv_b.slice(0, (H + KV) * dh, (H + 2 * KV) * dh).zero_();
      L.qkv_b = p.out(qkv_b);
    }
    applied.push_back("fold_value_biases");
  }
  model.add_processing(applied);
  return applied;
}

}  // namespace mechscope
