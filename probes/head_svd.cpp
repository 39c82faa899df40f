// head_svd (Elhage et al., "A Mathematical Framework"): the singular values of every head's OV
// and QK circuits, computed from their factors (rank ≤ d_head, never an SVD of a d_model × d_model
// matrix), the tokens each OV singular direction reads and writes, and the eigenvalue copying
// score of the full OV circuit W_E OV W_U.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/gemm.h"
#include "probes/builtin.h"
#include "probes/result_meta.h"
#include "probes/row_top_k.h"
#include "probes/tensors.h"
#include "probes/weight_space.h"

namespace mechscope::probes {

namespace {

Result run(const Model& model, const ProbeInputs&, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const int64_t L = c.n_layers, H = c.n_heads, dh = c.d_head;
  const int64_t k = std::min<int64_t>(options.integer("top_k"), c.d_vocab);
  const int64_t C = options.integer("token_components") > 0
                        ? std::min<int64_t>(options.integer("token_components"), dh)
                        : dh;  // components that get token lists
  const HeadFactors f = head_factors(model);
  const FactoredSvd ov = factored_svd(f.W_V, f.W_O);                     // U [L,H,D,dh], Vh [L,H,dh,D]
  const FactoredSvd qk = factored_svd(f.W_Q, f.W_K.transpose(-1, -2));  // S [L,H,dh]
  report(progress, 0.1);

  const at::Tensor W_U = model.weights().unembed_w.to(at::kFloat).t();  // [d_model, d_vocab]
  const at::Tensor W_E = model.weights().embed.to(at::kFloat);          // [d_vocab, d_model]
  // The full OV circuit's non-zero eigenvalues are those of W_O (W_U W_E) W_V [d_head, d_head].
  const at::Tensor UE = mechscope::mm(W_U, W_E).to(at::kDouble);  // [d_model, d_model]
  at::Tensor out_tokens = at::empty({L, H, C, k}, at::kFloat);
  at::Tensor in_tokens = at::empty({L, H, C, k}, at::kFloat);
  at::Tensor copying = at::empty({L, H}, at::kFloat);
  const at::Tensor W_Et = W_E.t();  // [d_model, d_vocab]
  for (int64_t l = 0; l < L; ++l) {
    // Every head's directions of this layer at once: rows (head, component).
    at::Tensor out_logits =
        mechscope::mm(ov.Vh[l].narrow(1, 0, C).reshape({H * C, c.d_model}), W_U);  // [H C, V]
    // Signs: u_c and vh_c flip together so that vh_c's largest-magnitude logit is positive.
    const at::Tensor peak = out_logits.gather(1, out_logits.abs().argmax(1, true));  // [H dh, 1]
    const at::Tensor sign = at::where(peak < 0, -at::ones_like(peak), at::ones_like(peak));
    out_logits.mul_(sign);
    at::Tensor in_logits = mechscope::mm(
        ov.U[l].transpose(-1, -2).narrow(1, 0, C).reshape({H * C, c.d_model}), W_Et);  // [H C, V]
    in_logits.mul_(sign);
    out_tokens[l].copy_(row_top_k(out_logits, k, false).top_index.view({H, C, k}));
    in_tokens[l].copy_(row_top_k(in_logits, k, false).top_index.view({H, C, k}));
    for (int64_t h = 0; h < H; ++h) {
      const at::Tensor small = at::matmul(at::matmul(f.W_O[l][h].to(at::kDouble), UE),
                                          f.W_V[l][h].to(at::kDouble));  // [dh, dh]
      const at::Tensor eig = at::linalg_eigvals(small);
      const double total = at::real(eig).sum().item<double>();
      const double magnitude = eig.abs().sum().item<double>();
      copying[l][h] = magnitude > 0 ? total / magnitude : 0.0;
    }
    report(progress, 0.1 + 0.9 * double(l + 1) / double(L));
  }

  const Axis layer{"layer", index_labels("L", L)}, head{"head", index_labels("H", H)};
  const Axis comp{"component", index_labels("C", dh)}, rank{"rank", rank_labels(k)};
  const Axis token_comp{"component", index_labels("C", C)};
  Result r;
  r.title = "Attention-head SVD (OV and QK circuits)";
  r.arrays["ov_singular_values"] = to_array(ov.S, {layer, head, comp});
  r.arrays["qk_singular_values"] = to_array(qk.S, {layer, head, comp});
  r.arrays["ov_out_top_token"] = to_array(out_tokens, {layer, head, token_comp, rank});
  r.arrays["ov_in_top_token"] = to_array(in_tokens, {layer, head, token_comp, rank});
  r.arrays["copying_score"] = to_array(copying, {layer, head});
  r.meta = {{"token_strings", token_strings(model, at::cat({out_tokens.reshape(-1),
                                                            in_tokens.reshape(-1)}))},
            {"sign_convention", "u_c, vh_c flipped together so vh_c @ W_U's largest |logit| > 0"}};
  return r;
}

}  // namespace

std::shared_ptr<const Probe> head_svd_probe() {
  ProbeInfo info;
  info.name = "head_svd";
  info.title = "Head SVD (OV / QK)";
  info.description =
      "Singular values of every head's OV = W_V W_O and QK = W_Q W_Kᵀ from their factors, the "
      "tokens each OV direction reads (through W_E) and writes (through W_U), and the eigenvalue "
      "copying score of W_E OV W_U. Reads the weights only.";
  info.options = {{"top_k", OptionSpec::Type::Integer, 5, {}, 1.0, 100.0,
                   "tokens kept per singular direction"},
                  {"token_components", OptionSpec::Type::Integer, 16, {}, 0.0, {},
                   "how many leading components of each head get token lists (0 = all d_head)"}};
  info.arrays = {{"ov_singular_values", {"layer", "head", "component"}, "descending"},
                 {"qk_singular_values", {"layer", "head", "component"}, "descending"},
                 {"ov_out_top_token", {"layer", "head", "component", "rank"},
                  "tokens the output direction vh_c writes (vh_c @ W_U)"},
                 {"ov_in_top_token", {"layer", "head", "component", "rank"},
                  "tokens the input direction u_c reads (W_E @ u_c)"},
                 {"copying_score", {"layer", "head"}, "Σλ / Σ|λ| of W_E OV W_U's eigenvalues"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
