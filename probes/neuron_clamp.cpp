// neuron_clamp: one MLP neuron's activation (blocks.L.mlp.hook_post) held at a value — at every
// position, the last one, or chosen ones — and the next-token distribution and greedy
// continuation with and without it. Pairs with neuron_decoding: clamping a neuron whose decoded
// top token is T should raise P(T).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>

#include "core/model/generate.h"
#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/neuron_clamp.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

void add_neuron_clamp(HookSet& hooks, int layer, int64_t neuron, double value,
                      const std::string& positions) {
  std::vector<int64_t> list;
  if (positions != "all" && positions != "last") {
    size_t begin = 0;
    while (begin <= positions.size()) {
      size_t end = positions.find(',', begin);
      if (end == std::string::npos) end = positions.size();
      long long p = -1;
      char tail = 0;
      if (std::sscanf(positions.substr(begin, end - begin).c_str(), "%lld%c", &p, &tail) != 1 || p < 0)
        throw Error("Option positions is all, last or a list like 0,3; got '" + positions + "'.");
      list.push_back(p);
      begin = end + 1;
    }
  }
  hooks.add(HookKind::MlpPost, layer, [=](HookCall& h) {
    at::Tensor post = h.value.clone();  // [batch, pos, d_mlp]
    const int64_t T = post.size(1);
    at::Tensor column = post.select(2, neuron);  // [batch, pos]
    if (positions == "all") column.fill_(value);
    else if (positions == "last") column.select(1, T - 1).fill_(value);
    else
      for (int64_t p : list)
        if (p < T) column.select(1, p).fill_(value);
    h.value = post;
  });
}

namespace {

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const int64_t layer = options.integer("layer"), neuron = options.integer("neuron");
  if (layer >= c.n_layers)
    throw Error("Layer " + std::to_string(layer) + " is outside the model's " +
                std::to_string(c.n_layers) + " layers.");
  if (neuron >= c.d_mlp)
    throw Error("Neuron " + std::to_string(neuron) + " is outside the layer's " +
                std::to_string(c.d_mlp) + " neurons (d_mlp).");
  HookSet clamp;
  add_neuron_clamp(clamp, static_cast<int>(layer), neuron, options.number("value"),
                   options.string("positions"));
  const at::Tensor tokens = prompt_tensor(model, in.tokens);
  const int64_t k = std::min<int64_t>(options.integer("top_k"), c.d_vocab);
  const at::Tensor clean = model.forward(tokens).select(1, -1);                // [1, d_vocab]
  const at::Tensor clamped = model.run(tokens, {}, &clamp).logits.select(1, -1);
  auto [prob, ids] = top_tokens(at::cat({clean, clamped}), k);  // [2, k]
  report(progress, 0.3);

  // Greedy continuations, the clamp held at every step.
  GenerateOptions g;
  g.max_new_tokens = options.integer("generate");
  g.stop_at_eos = true;
  const std::vector<int64_t> plain = generate(model, in.tokens, g);
  report(progress, 0.65);
  g.hooks = &clamp;
  // A clamp at the last or at chosen positions addresses positions of the whole sequence, but
  // the hooks of a KV-cached step see only its new token: such runs recompute every step.
  g.use_cache = options.string("positions") == "all";
  const std::vector<int64_t> held = generate(model, in.tokens, g);
  auto continuation = [&](const std::vector<int64_t>& all) {
    const std::vector<int64_t> tail(all.begin() + in.tokens.size(), all.end());
    nlohmann::json j = {{"tokens", tail}};
    if (model.tokenizer()) j["text"] = model.tokenizer()->decode(tail, true);
    return j;
  };

  Result r;
  r.title = result_title("Neuron clamp L" + std::to_string(layer) + "N" + std::to_string(neuron) +
                             " = " + std::to_string(options.number("value")).substr(0, 6),
                         in.prompt);
  const std::vector<Axis> axes = {{"condition", {"clean", "clamped"}}, {"rank", rank_labels(k)}};
  r.arrays["probs"] = to_array(prob, axes);
  r.arrays["tokens"] = to_array(ids, axes);
  r.meta = {{"continuation", {{"clean", continuation(plain)}, {"clamped", continuation(held)}}},
            {"token_strings", token_strings(model, ids)}};
  if (in.answer_id) {
    const at::Tensor p = at::softmax(at::cat({clean, clamped}).to(at::kFloat), -1).select(1, *in.answer_id);
    r.meta["answer_prob"] = {{"clean", p[0].item<double>()}, {"clamped", p[1].item<double>()}};
  }
  return r;
}

}  // namespace

std::shared_ptr<const Probe> neuron_clamp_probe() {
  ProbeInfo info;
  info.name = "neuron_clamp";
  info.title = "Neuron clamp";
  info.description =
      "Holds one MLP neuron's activation (mlp.hook_post) at a value and compares the next-token "
      "distribution and the greedy continuation with and without it.";
  info.inputs = {{Input::Prompt, true, "the prompt"},
                 {Input::Answer, false, "a token whose probability to report"}};
  info.options = {
      {"layer", OptionSpec::Type::Integer, 0, {}, 0.0, {}, "the neuron's layer"},
      {"neuron", OptionSpec::Type::Integer, 0, {}, 0.0, {}, "the neuron's index in the layer"},
      {"value", OptionSpec::Type::Number, 10.0, {}, {}, {}, "the activation to hold it at"},
      {"positions", OptionSpec::Type::String, "all", {}, {}, {},
       "all, last, or a list of positions like 0,3"},
      {"top_k", OptionSpec::Type::Integer, 10, {}, 1.0, 100.0, "next tokens kept"},
      {"generate", OptionSpec::Type::Integer, 10, {}, 0.0, 1000.0, "tokens of greedy continuation"}};
  info.arrays = {{"probs", {"condition", "rank"}, "top next-token probabilities, clean and clamped"},
                 {"tokens", {"condition", "rank"}, "their token ids"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
