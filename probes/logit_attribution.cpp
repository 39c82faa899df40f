// logit_attribution (direct logit attribution): how much each head, MLP, neuron and the
// embeddings write directly onto the answer's logit (difference), through the final norm with
// this run's scale frozen. The components sum to the actual logit (difference).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/patching.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const Weights& w = model.weights();
  const int L = c.n_layers;
  const int64_t H = c.n_heads, T = static_cast<int64_t>(in.tokens.size());
  int64_t pos = options.integer("position");
  if (pos < 0) pos += T;
  if (pos < 0 || pos >= T)
    throw Error("Position " + std::to_string(options.integer("position")) +
                " is outside the prompt's " + std::to_string(T) + " tokens.");
  const bool neurons = options.boolean("neurons");

  std::vector<HookKind> kinds = {HookKind::Embed, HookKind::Z, HookKind::MlpOut};
  if (c.positional == Positional::Learned) kinds.push_back(HookKind::PosEmbed);
  if (neurons) kinds.push_back(HookKind::MlpPost);
  const KindCache cache = run_with_kinds(model, prompt_tensor(model, in.tokens), kinds, true);
  report(progress, 0.5);

  // The direction in the normalised residual stream, and the frozen scale of this run.
  const at::Tensor unembed = w.unembed_w.to(at::kFloat);  // [d_vocab, d_model]
  at::Tensor dir = unembed[*in.answer_id];                // [d_model]
  if (in.wrong_id) dir = dir - unembed[*in.wrong_id];
  const at::Tensor x = cache.resid_final[0][pos].to(at::kFloat);  // [d_model]
  const bool layer_norm = c.norm == NormKind::LayerNorm;
  const at::Tensor centred_x = layer_norm ? x - x.mean() : x;
  const double scale = std::sqrt(centred_x.pow(2).mean().item<double>() + c.norm_eps);
  const at::Tensor gain = w.lnf_w.defined() ? w.lnf_w.to(at::kFloat) : at::ones_like(x);
  const at::Tensor u = gain * dir / scale;  // [d_model]
  // Projection of components [..., d_model] onto the direction through the frozen norm.
  auto project = [&](const at::Tensor& comp) {
    at::Tensor v = comp.to(at::kFloat);
    if (layer_norm) v = v - v.mean(-1, true);
    return at::matmul(v, u);
  };

  std::vector<at::Tensor> head_rows, mlp_rows, neuron_rows;
  at::Tensor attn_bias = at::zeros({c.d_model}, x.options());
  bool has_attn_bias = false;
  for (int l = 0; l < L; ++l) {
    const LayerWeights& lw = w.layers[l];
    const at::Tensor z = cache.at(HookKind::Z, l)[0][pos].to(at::kFloat);         // [head, d_head]
    const at::Tensor w_o = lw.o_w.to(at::kFloat).view({c.d_model, H, c.d_head});  // [D, H, dh]
    const at::Tensor result = at::einsum("dhk,hk->hd", {w_o, z});                 // [head, D]
    head_rows.push_back(project(result));
    mlp_rows.push_back(project(cache.at(HookKind::MlpOut, l)[0][pos]));
    if (lw.o_b.defined()) {
      attn_bias += lw.o_b.to(at::kFloat);
      has_attn_bias = true;
    }
    if (neurons) {
      const at::Tensor post = cache.at(HookKind::MlpPost, l)[0][pos].to(at::kFloat);  // [d_mlp]
      neuron_rows.push_back(post * project(lw.out_w.to(at::kFloat).t()));             // [d_mlp]
    }
  }
  std::vector<std::string> labels;
  std::vector<float> other;
  labels.push_back("embed");
  other.push_back(project(cache.at(HookKind::Embed, 0)[0][pos]).item<float>());
  if (c.positional == Positional::Learned) {
    labels.push_back("pos_embed");
    other.push_back(project(cache.at(HookKind::PosEmbed, 0)[0][pos]).item<float>());
  }
  if (has_attn_bias) {
    labels.push_back("attn_bias");
    other.push_back(project(attn_bias).item<float>());
  }
  if (layer_norm && w.lnf_b.defined()) {
    labels.push_back("final_norm_bias");
    other.push_back(at::dot(w.lnf_b.to(at::kFloat), dir).item<float>());
  }
  if (w.unembed_b.defined()) {
    const at::Tensor b = w.unembed_b.to(at::kFloat);
    labels.push_back("unembed_bias");
    other.push_back((b[*in.answer_id] - (in.wrong_id ? b[*in.wrong_id] : at::zeros({}))).item<float>());
  }

  const at::Tensor heads = at::stack(head_rows), mlp = at::stack(mlp_rows);
  const at::Tensor logits = cache.logits[0][pos].to(at::kFloat);
  const double actual = (logits[*in.answer_id] - (in.wrong_id ? logits[*in.wrong_id] : at::zeros({})))
                            .item<double>();
  double total = heads.sum().item<double>() + mlp.sum().item<double>();
  for (float v : other) total += v;

  Result r;
  r.title = result_title("Direct logit attribution", in.prompt);
  const Axis layer{"layer", index_labels("L", L)};
  r.arrays["heads"] = to_array(heads, {layer, {"head", index_labels("H", H)}});
  r.arrays["mlp"] = to_array(mlp, {layer});
  Array other_array;
  other_array.shape = {static_cast<int64_t>(other.size())};
  other_array.data = other;
  other_array.axes = {{"term", labels}};
  r.arrays["other"] = std::move(other_array);
  if (neurons) r.arrays["neurons"] = to_array(at::stack(neuron_rows), {layer, {"neuron", {}}});
  r.meta = {{"position", pos},
            {"answer_id", *in.answer_id},
            {"logit_diff", actual},
            {"total", total},
            {"direction", in.wrong_id ? "logit[answer] - logit[wrong]" : "logit[answer]"}};
  if (in.wrong_id) r.meta["wrong_id"] = *in.wrong_id;
  return r;
}

}  // namespace

std::shared_ptr<const Probe> logit_attribution_probe() {
  ProbeInfo info;
  info.name = "logit_attribution";
  info.title = "Direct logit attribution";
  info.description =
      "Each head's, MLP's (and neuron's) direct contribution to logit[answer] − logit[wrong] "
      "through the final norm with this run's scale frozen; the parts sum to the logit difference.";
  info.inputs = {{Input::Prompt, true, "the prompt"},
                 {Input::Answer, true, "the answer (one token)"},
                 {Input::Wrong, false, "the wrong answer for a logit difference (one token)"}};
  info.options = {{"position", OptionSpec::Type::Integer, -1, {}, {}, {},
                   "the position whose next-token logits are explained (-1 = last)"},
                  {"neurons", OptionSpec::Type::Boolean, false, {}, {}, {},
                   "also attribute to every MLP neuron"}};
  info.arrays = {{"heads", {"layer", "head"}, "each head's hook_result (without the output bias)"},
                 {"mlp", {"layer"}, "each MLP's output (with its bias)"},
                 {"other", {"term"}, "embed, pos_embed, attn_bias, final_norm_bias, unembed_bias"},
                 {"neurons", {"layer", "neuron"}, "with neurons: each neuron's contribution"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
