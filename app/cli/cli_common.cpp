#include "app/cli/cli_common.h"

#include <atomic>
#include <csignal>
#include <sstream>

#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/sae/sae_hooks.h"
#include "core/sae/sae_io.h"
#include "core/util/error.h"
#include "probes/run_probe.h"
#include "probes/tensors.h"

namespace mechscope::cli {
namespace {
std::atomic<bool> g_interrupted{false};
}

std::vector<OptionSpec> model_options() {
  return {
      {"model", "PATH", "Hugging Face model folder, GGUF file or llama2.c .bin file (default: "
                        "the embedded default model)"},
      {"tokenizer", "PATH", "tokenizer.json or llama2.c tokenizer.bin (default: next to the model, "
                            "or a GGUF file's own)"},
      {"device", "DEV", "cpu (default) or cuda"},
      {"dtype", "TYPE", "float32 (default), float16 or bfloat16 (CUDA)"},
      {"process", "STEPS", "TransformerLens weight processing: fold_ln, center_writing_weights, "
                           "center_unembed, fold_value_biases (comma-separated; all; none)"},
  };
}

std::unique_ptr<Model> load_model_from_args(const Args& args) {
  LoadOptions opts;
  if (auto t = args.optional("tokenizer")) opts.tokenizer = *t;
  opts.device = parse_device(args.get("device", "cpu"));
  const std::string dtype = args.get("dtype", "float32");
  if (dtype == "float32" || dtype == "f32") opts.dtype = at::kFloat;
  else if (dtype == "float16" || dtype == "f16") opts.dtype = at::kHalf;
  else if (dtype == "bfloat16" || dtype == "bf16") opts.dtype = at::kBFloat16;
  else throw Error("Unknown --dtype '" + dtype + "' (use float32, float16 or bfloat16).");
  opts.process = WeightProcessing::parse(args.get("process", "none"));
  const std::vector<std::string> steer = args.all("steer");
  if (!args.has("sae") && (args.has("sae-error") || args.has("sae-keep") || !steer.empty()))
    throw Error("--sae-error, --sae-keep and --steer need --sae DIR (the SAE whose features they use).");
  std::shared_ptr<const sae::Sae> sae;  // read before the model: a bad folder fails fast
  if (args.has("sae")) sae = std::make_shared<const sae::Sae>(sae::load_sae(args.get("sae")));
  std::unique_ptr<Model> model;
  if (args.has("model")) {
    model = load_model(args.get("model"), opts);
  } else {
    const auto fallback = default_model_path();
    if (!std::filesystem::exists(fallback / "config.json"))
      throw Error("No --model given and the embedded default model is missing (" +
                  fallback.string() + ").");
    model = load_model(fallback, opts);
  }
  if (sae) {
    sae::SpliceOptions splice;
    splice.error_term = args.has("sae-error");
    splice.replace = !args.has("sae-keep");
    for (const std::string& s : steer) splice.steer.push_back(sae::parse_steer(s));
    auto on_device = std::make_shared<sae::Sae>(*sae);
    on_device->to(model->device(), model->dtype());
    sae::splice_into(*model, on_device, splice, args.get("sae"));
  }
  return model;
}

std::vector<OptionSpec> sae_splice_options() {
  return {
      {"sae", "DIR", "an SAELens folder: its SAE replaces the activation at its hook by the "
                     "reconstruction in every forward pass"},
      {"sae-error", "", "with --sae: add the error term x − x̂ back (the forward pass is unchanged "
                        "except for feature edits and steering)"},
      {"sae-keep", "", "with --sae: keep the activation (no reconstruction); only --steer applies"},
      {"steer", "FEATURE=SCALE", "with --sae: add SCALE × the feature's decoder direction at the "
                                 "SAE's hook, every position (repeatable)"},
  };
}

std::vector<int64_t> parse_token_list(const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument("x");
    } catch (const std::exception&) {
      throw Error("--tokens must be comma-separated integers, got '" + item + "'.");
    }
  }
  if (ids.empty()) throw Error("--tokens is empty.");
  return ids;
}

std::vector<int64_t> prompt_tokens(const Model& model, const Args& args) {
  if (args.has("tokens")) return parse_token_list(args.get("tokens"));
  if (!args.has("prompt")) throw Error("Give --prompt TEXT or --tokens ID,ID,….");
  if (model.tokenizer() == nullptr)
    throw Error("The model has no tokenizer: give --tokenizer PATH or --tokens.");
  auto ids = model.tokenizer()->encode(args.get("prompt"), true).ids;
  if (ids.empty()) throw Error("The prompt encodes to no tokens.");
  return ids;
}

std::pair<std::vector<int64_t>, at::Tensor> prompt_with_image(const Model& model, const Args& args) {
  probes::ProbeInputs in;
  in.tokens = prompt_tokens(model, args);
  if (args.has("image")) in.image = args.get("image");
  probes::prepare_image_tokens(model, in);
  return {in.tokens, probes::prompt_pixels(model, in)};
}

bool interrupted() { return g_interrupted.load(); }

void install_interrupt_handler() {
  std::signal(SIGINT, [](int) { g_interrupted = true; });
}

}  // namespace mechscope::cli
