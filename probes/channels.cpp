// channels (Merullo et al., "Talking Heads"): which singular components of a sender head's OV a
// receiver head reads — the composition score of each rank-1 piece s_c u_c vh_c with the
// receiver's QK (q), QKᵀ (k) or OV (v) — and an edit that rescales chosen components in a forward
// pass and reports the metric before and after.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>

#include "core/model/model.h"
#include "core/util/error.h"
#include "core/util/gemm.h"
#include "probes/builtin.h"
#include "probes/metric.h"
#include "probes/patching.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"
#include "probes/weight_space.h"

namespace mechscope::probes {

namespace {

/// "0,1:0.5" → components {0, 1}, factor 0.5.
std::pair<std::vector<int64_t>, double> parse_scale(const std::string& text, int64_t d_head) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos)
    throw Error("Option scale is COMPONENTS:FACTOR, e.g. 0,1:0 (remove components 0 and 1); got '" +
                text + "'.");
  std::vector<int64_t> comps;
  size_t begin = 0;
  const std::string list = text.substr(0, colon);
  while (begin <= list.size()) {
    size_t end = list.find(',', begin);
    if (end == std::string::npos) end = list.size();
    int c = -1;
    char tail = 0;
    if (std::sscanf(list.substr(begin, end - begin).c_str(), "%d%c", &c, &tail) != 1 || c < 0 ||
        c >= d_head)
      throw Error("Component '" + list.substr(begin, end - begin) + "' is not one of 0-" +
                  std::to_string(d_head - 1) + ".");
    comps.push_back(c);
    begin = end + 1;
  }
  char* end = nullptr;
  const std::string factor_text = text.substr(colon + 1);
  const double factor = std::strtod(factor_text.c_str(), &end);
  if (factor_text.empty() || *end != '\0')
    throw Error("The factor in scale=" + text + " is not a number.");
  return {comps, factor};
}

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const auto sender = parse_heads(model, options.string("sender"));
  const auto receiver = parse_heads(model, options.string("receiver"));
  if (sender.size() != 1 || receiver.size() != 1)
    throw Error("Give one sender and one receiver head, like sender=L0H1 receiver=L1H0.");
  const auto [sl, sh] = sender[0];
  const auto [rl, rh] = receiver[0];
  if (sl >= rl)
    throw Error("The sender (layer " + std::to_string(sl) +
                ") must be in an earlier layer than the receiver (layer " + std::to_string(rl) + ").");
  const std::string mode = options.string("mode");
  const HeadFactors f = head_factors(model);
  const at::Tensor V = f.W_V[sl][sh].to(at::kDouble), O = f.W_O[sl][sh].to(at::kDouble);
  FactoredSvd svd = factored_svd(V, O);  // U [D, r], S [r], Vh [r, D]
  const at::Tensor W_U = model.weights().unembed_w.to(at::kFloat).t();
  const at::Tensor peak_logits = mechscope::mm(svd.Vh, W_U);
  const at::Tensor peak = peak_logits.gather(1, peak_logits.abs().argmax(1, true));
  const at::Tensor sign = at::where(peak < 0, -at::ones_like(peak), at::ones_like(peak));  // [r, 1]
  svd.Vh = svd.Vh * sign;
  svd.U = svd.U * sign.t();
  // The receiver's matrix B = X Yᵀ; each piece's score is ‖vh_c B‖ / ‖B‖ (‖u_c‖ = 1).
  at::Tensor X, Y;
  if (mode == "q") { X = f.W_Q[rl][rh]; Y = f.W_K[rl][rh]; }
  else if (mode == "k") { X = f.W_K[rl][rh]; Y = f.W_Q[rl][rh]; }
  else { X = f.W_V[rl][rh]; Y = f.W_O[rl][rh].t(); }
  X = X.to(at::kDouble);
  Y = Y.to(at::kDouble);
  const double b_norm = at::matmul(X, Y.t()).norm().item<double>();
  const at::Tensor piece = at::matmul(at::matmul(svd.Vh.to(at::kDouble), X), Y.t());  // [r, D]
  const at::Tensor component_score = piece.norm(2, 1) / b_norm;                     // [r]
  const at::Tensor whole =
      at::matmul(at::matmul(at::matmul(V, O), X), Y.t()).norm() / (at::matmul(V, O).norm() * b_norm);

  Result r;
  r.title = "Channels " + options.string("sender") + " → " + options.string("receiver") + " (" +
            mode + ")";
  const Axis comp{"component", index_labels("C", c.d_head)};
  r.arrays["component_score"] = to_array(component_score, {comp});
  r.arrays["singular_value"] = to_array(svd.S, {comp});
  r.meta = {{"sender", options.string("sender")},
            {"receiver", options.string("receiver")},
            {"mode", mode},
            {"composition_score", whole.item<double>()}};
  report(progress, 0.5);

  const std::string scale = options.string("scale");
  if (!scale.empty()) {
    if (in.tokens.empty() || !in.answer_id)
      throw Error("The scale edit measures a metric: give a prompt and an answer.");
    const auto [comps, factor] = parse_scale(scale, c.d_head);
    // OV' = OV + Σ_c (factor − 1) s_c u_c vh_c. Every u_c lies in W_V's columns and every vh_c
    // in W_O's rows, so the edit is z_h ↦ z_h M with M = I + W_V⁺ ΔOV W_O⁺ at the sender's hook_z.
    at::Tensor delta = at::zeros({c.d_model, c.d_model}, at::kDouble);
    for (int64_t comp_index : comps)
      delta += (factor - 1) * svd.S[comp_index].item<double>() *
               at::outer(svd.U.select(1, comp_index).to(at::kDouble),
                         svd.Vh[comp_index].to(at::kDouble));
    const at::Tensor M = (at::eye(c.d_head, at::kDouble) +
                          at::matmul(at::matmul(at::linalg_pinv(V), delta), at::linalg_pinv(O)))
                             .to(model.dtype())
                             .to(model.device());  // [d_head, d_head]
    HookSet hooks;
    const int64_t head = sh;
    hooks.add(HookKind::Z, sl, [M, head](HookCall& h) {
      at::Tensor z = h.value.clone();  // [batch, pos, head, d_head]
      z.select(2, head).copy_(at::matmul(h.value.select(2, head), M));
      h.value = z;
    });
    Metric metric("logit_diff", in);
    const at::Tensor tokens = prompt_tensor(model, in.tokens);
    const double before = metric.raw(last_position(model.forward(tokens))).item<double>();
    const double after =
        metric.raw(last_position(model.run(tokens, {}, &hooks).logits)).item<double>();
    Array m;
    m.shape = {2};
    m.data = {static_cast<float>(before), static_cast<float>(after)};
    m.axes = {{"condition", {"original", "scaled"}}};
    r.arrays["metric"] = std::move(m);
    r.meta["scale"] = {{"components", comps}, {"factor", factor}};
    r.meta["metric"] = in.wrong_id ? "logit[answer] - logit[wrong]" : "logit[answer]";
  }
  return r;
}

}  // namespace

std::shared_ptr<const Probe> channels_probe() {
  ProbeInfo info;
  info.name = "channels";
  info.title = "Low-rank channels (Talking Heads)";
  info.description =
      "The composition score of each singular component of a sender head's OV with a later "
      "receiver head's QK, QKᵀ or OV — the low-rank channel between them — and an edit that "
      "rescales chosen components in a forward pass (Merullo et al.).";
  info.inputs = {{Input::Prompt, false, "with scale: the prompt to measure on"},
                 {Input::Answer, false, "with scale: the answer whose logit is measured"},
                 {Input::Wrong, false, "with scale: the wrong answer of a logit difference"}};
  info.options = {
      {"sender", OptionSpec::Type::String, "L0H0", {}, {}, {}, "the sender head, like L0H1"},
      {"receiver", OptionSpec::Type::String, "L1H0", {}, {}, {}, "the receiver head, like L1H0"},
      {"mode", OptionSpec::Type::String, "q", {"q", "k", "v"}, {}, {},
       "which input of the receiver reads the sender"},
      {"scale", OptionSpec::Type::String, "", {}, {}, {},
       "COMPONENTS:FACTOR, e.g. 0,1:0 — rescale those OV components of the sender in a forward "
       "pass and report the metric before and after"}};
  info.arrays = {{"component_score", {"component"}, "composition score of each rank-1 piece"},
                 {"singular_value", {"component"}, "the sender OV's singular values"},
                 {"metric", {"condition"}, "with scale: original and scaled metric"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
