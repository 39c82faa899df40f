// neuron_agreement (Davies et al.'s base vs. instruct comparison): for two checkpoints of the same
// shape, the share of each layer's MLP neurons whose decoded top token (write vector through each
// model's own final norm and unembedding) is the same.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/loader.h"
#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"
#include "probes/weight_space.h"

namespace mechscope::probes {

namespace {

Result run(const Model& model, const ProbeInputs&, const Options& options,
           const Progress& progress) {
  const std::string other_path = options.string("other");
  if (other_path.empty()) throw Error("Give the other checkpoint: --option other=PATH.");
  LoadOptions load;
  load.device = model.device();
  const std::unique_ptr<Model> other = load_model(other_path, load);
  c10::InferenceMode guard;
  const ModelConfig &a = model.config(), &b = other->config();
  if (a.n_layers != b.n_layers || a.d_mlp != b.d_mlp || a.d_model != b.d_model ||
      a.d_vocab != b.d_vocab)
    throw Error("The other checkpoint " + other_path + " has another shape (" +
                std::to_string(b.n_layers) + " layers, d_mlp " + std::to_string(b.d_mlp) +
                ", d_model " + std::to_string(b.d_model) + ", d_vocab " +
                std::to_string(b.d_vocab) + ") than this model (" + std::to_string(a.n_layers) +
                ", " + std::to_string(a.d_mlp) + ", " + std::to_string(a.d_model) + ", " +
                std::to_string(a.d_vocab) + ").");
  const std::vector<int> layers = parse_layers(model, options.string("layers"));
  at::Tensor agreement = at::empty({static_cast<int64_t>(layers.size())}, at::kFloat);
  for (size_t i = 0; i < layers.size(); ++i) {
    auto top = [&](const Model& m) {
      const at::Tensor write = m.weights().layers[layers[i]].out_w.t();  // [d_mlp, d_model]
      return vocab_top_k(m, through_final_norm(m, write), 1, false).top_token.squeeze(1);
    };
    agreement[static_cast<int64_t>(i)] = top(model).eq(top(*other)).to(at::kFloat).mean();
    report(progress, double(i + 1) / double(layers.size()));
  }
  std::vector<std::string> labels;
  for (int l : layers) labels.push_back("L" + std::to_string(l));
  Result r;
  r.title = "Neuron agreement with " + other_path;
  r.arrays["agreement"] = to_array(agreement, {{"layer", labels}});
  r.meta = {{"other", other_path}, {"mean", agreement.mean().item<double>()}};
  return r;
}

}  // namespace

std::shared_ptr<const Probe> neuron_agreement_probe() {
  ProbeInfo info;
  info.name = "neuron_agreement";
  info.title = "Neuron agreement between checkpoints";
  info.description =
      "For two checkpoints of the same shape (e.g. base and fine-tuned), the share of each "
      "layer's MLP neurons whose decoded top token agrees.";
  info.options = {{"other", OptionSpec::Type::String, "", {}, {}, {}, "the other checkpoint (PATH)"},
                  {"layers", OptionSpec::Type::String, "all", {}, {}, {}, "all, or 0,3,5 or 2-4"}};
  info.arrays = {{"agreement", {"layer"}, "share of neurons with the same top token"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
