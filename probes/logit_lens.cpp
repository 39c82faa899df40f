// logit_lens: the residual stream entering each layer (and the final one) read through the final
// norm — each row with its own statistics — and the unembedding.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
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
  const KindCache cache =
      run_with_kinds(model, prompt_tensor(model, in.tokens), {HookKind::ResidPre}, false,
                     prompt_pixels(model, in));
  report(progress, 0.5);
  std::vector<at::Tensor> rows;
  for (int l = 0; l < c.n_layers; ++l) rows.push_back(cache.at(HookKind::ResidPre, l)[0]);
  rows.push_back(cache.resid_final[0]);
  const at::Tensor resid = at::stack(rows);                                     // [layer+1, pos, D]
  const at::Tensor logprobs = at::log_softmax(model.unembed(resid).to(at::kFloat), -1);  // [.., V]
  const int64_t k = std::min<int64_t>(options.integer("top_k"), c.d_vocab);
  auto [logp, ids] = logprobs.topk(k, -1);

  std::vector<std::string> layer_labels = index_labels("L", c.n_layers);
  layer_labels.push_back("final");
  const Axis layer{"layer", layer_labels}, position{"position", token_labels(model, in.tokens)};
  const Axis rank{"rank", rank_labels(k)};
  Result r;
  r.title = result_title("Logit lens", in.prompt);
  r.arrays["top_token"] = to_array(ids.to(at::kFloat), {layer, position, rank});
  r.arrays["top_prob"] = to_array(logp.exp(), {layer, position, rank});
  if (in.answer_id)
    r.arrays["answer_logprob"] = to_array(logprobs.select(-1, *in.answer_id), {layer, position});
  r.meta = {{"token_strings", token_strings(model, ids)}};
  if (in.answer_id) r.meta["answer_id"] = *in.answer_id;
  return r;
}

}  // namespace

std::shared_ptr<const Probe> logit_lens_probe() {
  ProbeInfo info;
  info.name = "logit_lens";
  info.title = "Logit lens";
  info.description =
      "What the residual stream would predict if the model stopped at each layer: every "
      "layer's input through the final norm and the unembedding.";
  info.inputs = {{Input::Prompt, true, "the prompt"},
                 {Input::Answer, false, "a token whose log-probability to follow across layers"},
                 {Input::Image, false, "the image (vision-language models)"}};
  info.options = {{"top_k", OptionSpec::Type::Integer, 5, {}, 1.0, 100.0, "tokens kept per cell"}};
  info.arrays = {
      {"top_token", {"layer", "position", "rank"}, "top token ids (resid_pre of each layer, then "
                                                   "the final residual)"},
      {"top_prob", {"layer", "position", "rank"}, "their probabilities"},
      {"answer_logprob", {"layer", "position"}, "with an answer: its log-probability"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
