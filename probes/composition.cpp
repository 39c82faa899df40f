// composition (Elhage et al.; TransformerLens all_composition_scores): how much each head's OV
// output is read by a later head's query, key or value — ‖A B‖_F / (‖A‖_F ‖B‖_F) with A the
// sender's OV and B the receiver's QK (Q), QKᵀ (K) or OV (V). Norms of products come from the
// factors' triangular parts (QR), so no d_model × d_model matrix is formed.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/gemm.h"
#include "probes/builtin.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"
#include "probes/weight_space.h"

namespace mechscope::probes {

namespace {

/// The triangular factor of a QR (in f64), as f32 for the batched products.
at::Tensor r_of(const at::Tensor& m) {
  return std::get<1>(at::linalg_qr(m.to(at::kDouble))).to(at::kFloat);  // [.., r, r]
}

/// Scores [senders, receivers] for factor stacks (double): sender OV = V_s O_s, receiver
/// B = X_r Y_rᵀ with X [N, D, r], Y [N, D, r].
at::Tensor scores(const at::Tensor& V, const at::Tensor& O, const at::Tensor& X,
                  const at::Tensor& Y) {
  const at::Tensor Rv = r_of(V), Ro = r_of(O.transpose(-1, -2));     // [N, r, r]
  const at::Tensor Rx = r_of(X), Ry = r_of(Y);                       // [N, r, r]
  const at::Tensor ov_norm = at::matmul(Rv, Ro.transpose(-1, -2)).flatten(1).norm(2, 1);  // [N]
  const at::Tensor b_norm = at::matmul(Rx, Ry.transpose(-1, -2)).flatten(1).norm(2, 1);
  // ‖V_s O_s X_r Y_rᵀ‖ = ‖Rv_s (O_s X_r) Ry_rᵀ‖; every O_s X_r from one f32 GEMM.
  const int64_t S = O.size(0), R = X.size(0), r = O.size(1), D = O.size(2);
  const at::Tensor mid =
      mechscope::mm(O.to(at::kFloat).reshape({S * r, D}),
                    X.to(at::kFloat).permute({1, 0, 2}).reshape({D, R * r}))  // [S r, R r]
          .view({S, r, R, r})
          .permute({0, 2, 1, 3});  // [S, R, r, r]
  const at::Tensor full = at::matmul(at::matmul(Rv.unsqueeze(1), mid), Ry.transpose(-1, -2).unsqueeze(0));
  return full.flatten(2).norm(2, 2) / (ov_norm.unsqueeze(1) * b_norm.unsqueeze(0));
}

Result run(const Model& model, const ProbeInputs&, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const int64_t L = c.n_layers, H = c.n_heads, N = L * H;
  const HeadFactors f = head_factors(model);
  auto flat = [&](const at::Tensor& t) { return t.reshape({N, t.size(2), t.size(3)}).to(at::kDouble); };
  const at::Tensor V = flat(f.W_V), O = flat(f.W_O), Q = flat(f.W_Q), K = flat(f.W_K);
  const at::Tensor Ot = O.transpose(-1, -2).contiguous();  // [N, D, r]
  // Sender layer < receiver layer; TransformerLens leaves the rest 0.
  const at::Tensor layer_of = at::arange(N, at::kLong).div(H, "floor");
  const at::Tensor mask = (layer_of.unsqueeze(1) < layer_of.unsqueeze(0)).to(at::kDouble).to(V.device());
  Result r;
  r.title = "Head composition (Q, K, V)";
  const Axis sl{"sender_layer", index_labels("L", L)}, sh{"sender_head", index_labels("H", H)};
  const Axis rl{"receiver_layer", index_labels("L", L)}, rh{"receiver_head", index_labels("H", H)};
  const std::vector<std::pair<std::string, std::pair<at::Tensor, at::Tensor>>> modes = {
      {"q", {Q, K}}, {"k", {K, Q}}, {"v", {V, Ot}}};
  int done = 0;
  for (const auto& [name, xy] : modes) {
    // Chunk senders so the [senders, N, r, r] middle stays small.
    std::vector<at::Tensor> parts;
    const int64_t chunk = std::max<int64_t>(1, (int64_t(32) << 20) / (N * c.d_head * c.d_head));
    for (int64_t s0 = 0; s0 < N; s0 += chunk) {
      const int64_t s1 = std::min(N, s0 + chunk);
      parts.push_back(scores(V.slice(0, s0, s1), O.slice(0, s0, s1), xy.first, xy.second));
    }
    const at::Tensor s = at::cat(parts) * mask;  // [N, N]
    r.arrays[name] = to_array(s.view({L, H, L, H}), {sl, sh, rl, rh});
    report(progress, double(++done) / (options.boolean("baseline") ? 4.0 : 3.0));
  }
  r.meta = nlohmann::json::object();
  if (options.boolean("baseline")) {
    // The same score for random Gaussian factors of the same shapes: what "no composition" looks
    // like at this d_model and d_head.
    const int64_t draws = options.integer("baseline_draws");
    at::Generator gen = at::detail::createCPUGenerator(1234);
    auto rnd = [&](const at::Tensor& like) {
      return at::randn({draws, like.size(1), like.size(2)}, gen, at::TensorOptions(at::kDouble));
    };
    for (const auto& [name, xy] : modes) {
      const at::Tensor s = scores(rnd(V), rnd(O), rnd(xy.first), rnd(xy.second));  // [draws, draws]
      r.meta["baseline"][name] = s.diagonal().mean().item<double>();
    }
    report(progress, 1.0);
  }
  return r;
}

}  // namespace

std::shared_ptr<const Probe> composition_probe() {
  ProbeInfo info;
  info.name = "composition";
  info.title = "Head composition";
  info.description =
      "Q-, K- and V-composition scores of every sender head with every later receiver head "
      "(‖A B‖_F / ‖A‖_F ‖B‖_F, TransformerLens all_composition_scores), optionally with the "
      "score random matrices of the same shapes get. Reads the weights only.";
  info.options = {{"baseline", OptionSpec::Type::Boolean, true, {}, {}, {},
                   "also report the mean score of random factors of the same shapes"},
                  {"baseline_draws", OptionSpec::Type::Integer, 64, {}, 1.0, 4096.0,
                   "random pairs averaged for the baseline"}};
  const std::vector<std::string> axes = {"sender_layer", "sender_head", "receiver_layer",
                                         "receiver_head"};
  info.arrays = {{"q", axes, "sender OV · receiver QK"},
                 {"k", axes, "sender OV · receiver QKᵀ"},
                 {"v", axes, "sender OV · receiver OV"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
