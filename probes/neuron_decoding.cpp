// neuron_decoding (Davies et al., LM-head decoding of MLP neurons): every neuron's write vector
// (its row of W_out) and read vectors (its column of W_in, and of W_gate for gated MLPs) through
// the final norm's gain and the unembedding — the tokens each neuron promotes, suppresses and
// reads. Chunked GEMMs with a top-k per chunk: memory O(neurons × k), never [neurons, d_vocab].
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "probes/builtin.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"
#include "probes/weight_space.h"

namespace mechscope::probes {

namespace {

Result run(const Model& model, const ProbeInputs&, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const std::vector<int> layers = parse_layers(model, options.string("layers"));
  const int64_t k = std::min<int64_t>(options.integer("top_k"), c.d_vocab);
  const bool through_norm = options.boolean("through_norm");
  const bool gated = c.gated_mlp;
  const int64_t M = c.d_mlp, n = static_cast<int64_t>(layers.size());

  // [layer, neuron, rank] per array, filled layer by layer.
  std::map<std::string, at::Tensor> out;
  std::vector<std::string> names = {"out_top_token", "out_top_logit", "out_bottom_token",
                                    "out_bottom_logit", "in_top_token", "in_top_logit"};
  if (gated) {
    names.push_back("gate_top_token");
    names.push_back("gate_top_logit");
  }
  for (const auto& name : names) out[name] = at::empty({n, M, k}, at::kFloat);
  const double passes = gated ? 3.0 : 2.0;
  int64_t step = 0;
  auto read = [&](const at::Tensor& vectors, bool bottom) {  // [d_mlp, d_model]
    const at::Tensor v = through_norm ? through_final_norm(model, vectors) : vectors;
    const double base = double(step++);
    return vocab_top_k(model, v, k, bottom, [&](int64_t done) {
      report(progress, (base + double(done) / double(M)) / (passes * double(n)));
    });
  };
  for (int64_t i = 0; i < n; ++i) {
    const LayerWeights& L = model.weights().layers[layers[i]];
    const VocabTopK w = read(L.out_w.t(), true);  // write vectors: rows of W_out [d_mlp, d_model]
    out["out_top_token"][i].copy_(w.top_token);
    out["out_top_logit"][i].copy_(w.top_logit);
    out["out_bottom_token"][i].copy_(w.bottom_token);
    out["out_bottom_logit"][i].copy_(w.bottom_logit);
    const VocabTopK r = read(L.in_w, false);  // read vectors: columns of W_in, [d_mlp, d_model]
    out["in_top_token"][i].copy_(r.top_token);
    out["in_top_logit"][i].copy_(r.top_logit);
    if (gated) {
      const VocabTopK g = read(L.gate_w, false);
      out["gate_top_token"][i].copy_(g.top_token);
      out["gate_top_logit"][i].copy_(g.top_logit);
    }
  }

  std::vector<std::string> layer_labels;
  for (int l : layers) layer_labels.push_back("L" + std::to_string(l));
  const std::vector<Axis> axes = {{"layer", layer_labels}, {"neuron", {}}, {"rank", rank_labels(k)}};
  Result r;
  r.title = "LM-head neuron decoding";
  std::vector<at::Tensor> ids;
  for (const auto& [name, t] : out) {
    r.arrays[name] = to_array(t, axes);
    if (name.find("_token") != std::string::npos) ids.push_back(t.reshape(-1));
  }
  r.meta = {{"layers", layers},
            {"through_norm", through_norm},
            {"token_strings", token_strings(model, at::cat(ids))}};
  return r;
}

}  // namespace

std::shared_ptr<const Probe> neuron_decoding_probe() {
  ProbeInfo info;
  info.name = "neuron_decoding";
  info.title = "Neuron decoding (LM head)";
  info.description =
      "Every MLP neuron's write vector (row of W_out) and read vectors (W_in, W_gate) through the "
      "final norm's gain and the unembedding: the tokens it promotes, suppresses and reads "
      "(Davies et al.). Reads the weights only.";
  info.options = {
      {"top_k", OptionSpec::Type::Integer, 10, {}, 1.0, 1000.0, "tokens kept per neuron"},
      {"layers", OptionSpec::Type::String, "all", {}, {}, {}, "all, or a list like 0,3,5 or 2-4"},
      {"through_norm", OptionSpec::Type::Boolean, true, {}, {}, {},
       "pass each vector through the final norm's gain (LayerNorm: centred, then × γ) first"}};
  info.arrays = {
      {"out_top_token", {"layer", "neuron", "rank"}, "tokens the neuron's output promotes most"},
      {"out_top_logit", {"layer", "neuron", "rank"}, "their logits"},
      {"out_bottom_token", {"layer", "neuron", "rank"}, "tokens it suppresses most"},
      {"out_bottom_logit", {"layer", "neuron", "rank"}, "their logits"},
      {"in_top_token", {"layer", "neuron", "rank"}, "tokens its input (up-projection) reads"},
      {"in_top_logit", {"layer", "neuron", "rank"}, "their logits"},
      {"gate_top_token", {"layer", "neuron", "rank"}, "gated MLPs: tokens its gate reads"},
      {"gate_top_logit", {"layer", "neuron", "rank"}, "their logits"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
