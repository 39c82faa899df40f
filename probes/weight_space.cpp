#include "probes/weight_space.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "core/model/model.h"
#include "core/util/error.h"
#include "core/util/gemm.h"
#include "probes/row_top_k.h"

namespace mechscope::probes {

std::vector<int> parse_layers(const Model& model, const std::string& text) {
  const int L = model.config().n_layers;
  std::vector<int> layers;
  if (text.empty() || text == "all") {
    for (int l = 0; l < L; ++l) layers.push_back(l);
    return layers;
  }
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(begin, end - begin);
    begin = end + 1;
    int a = -1, b = -1;
    char tail = 0;
    if (std::sscanf(item.c_str(), "%d-%d%c", &a, &b, &tail) == 2) {
    } else if (std::sscanf(item.c_str(), "%d%c", &a, &tail) == 1) {
      b = a;
    } else {
      throw Error("Layers are 'all' or a list like 0,3,5 or 2-4; got '" + item + "'.");
    }
    if (a < 0 || b >= L || a > b)
      throw Error("Layer " + item + " is outside the model's layers 0-" + std::to_string(L - 1) + ".");
    for (int l = a; l <= b; ++l)
      if (std::find(layers.begin(), layers.end(), l) == layers.end()) layers.push_back(l);
  }
  return layers;
}

at::Tensor through_final_norm(const Model& model, const at::Tensor& vectors) {
  const Weights& w = model.weights();
  at::Tensor v = vectors.to(at::kFloat);
  if (model.config().norm == NormKind::LayerNorm) v = v - v.mean(-1, true);
  return w.lnf_w.defined() ? v * w.lnf_w.to(at::kFloat) : v;
}

VocabTopK vocab_top_k(const Model& model, const at::Tensor& vectors, int64_t k, bool bottom,
                      const std::function<void(int64_t)>& on_chunk) {
  const at::Tensor unembed = model.weights().unembed_w;  // [d_vocab, d_model]
  const int64_t V = unembed.size(0), n = vectors.size(0);
  k = std::min(k, V);
  // About 64 MB of logits per chunk: large enough for BLAS, small whatever the model.
  const int64_t rows = std::clamp<int64_t>((int64_t(16) << 20) / std::max<int64_t>(V, 1), 16, 4096);
  VocabTopK out;
  out.top_logit = at::empty({n, k}, at::kFloat);
  out.top_token = at::empty({n, k}, at::kFloat);
  if (bottom) {
    out.bottom_logit = at::empty({n, k}, at::kFloat);
    out.bottom_token = at::empty({n, k}, at::kFloat);
  }
  const at::Tensor wt = unembed.t();  // [d_model, d_vocab] view
  for (int64_t r0 = 0; r0 < n; r0 += rows) {
    const int64_t r1 = std::min(n, r0 + rows);
    const at::Tensor logits =
        mechscope::mm(vectors.slice(0, r0, r1).to(unembed.device()).to(unembed.scalar_type()), wt);
    const RowTopK t = row_top_k(logits, k, bottom);
    out.top_logit.slice(0, r0, r1).copy_(t.top_value);
    out.top_token.slice(0, r0, r1).copy_(t.top_index);
    if (bottom) {
      out.bottom_logit.slice(0, r0, r1).copy_(t.bottom_value);
      out.bottom_token.slice(0, r0, r1).copy_(t.bottom_index);
    }
    if (on_chunk) on_chunk(r1);
  }
  return out;
}

HeadFactors head_factors(const Model& model) {
  const int L = model.config().n_layers;
  std::vector<at::Tensor> q, k, v, o;
  for (int l = 0; l < L; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".attn.";
    q.push_back(model.weight(b + "W_Q").to(at::kFloat));
    k.push_back(model.weight(b + "W_K", true).to(at::kFloat));
    v.push_back(model.weight(b + "W_V", true).to(at::kFloat));
    o.push_back(model.weight(b + "W_O").to(at::kFloat));
  }
  return {at::stack(q), at::stack(k), at::stack(v), at::stack(o)};
}

FactoredSvd factored_svd(const at::Tensor& A, const at::Tensor& B) {
  // A = Qa Ra, Bᵀ = Qb Rb  →  A B = Qa (Ra Rbᵀ) Qbᵀ; the SVD of the small middle gives the rest.
  auto [Qa, Ra] = at::linalg_qr(A.to(at::kDouble));                 // [.., m, r], [.., r, r]
  auto [Qb, Rb] = at::linalg_qr(B.transpose(-1, -2).to(at::kDouble));  // [.., n, r], [.., r, r]
  auto [Um, S, Vmh] = at::linalg_svd(at::matmul(Ra, Rb.transpose(-1, -2)), false);
  return {at::matmul(Qa, Um).to(at::kFloat), S.to(at::kFloat),
          at::matmul(Vmh, Qb.transpose(-1, -2)).to(at::kFloat)};
}

}  // namespace mechscope::probes
