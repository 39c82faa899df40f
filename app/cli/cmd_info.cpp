// mechscope-cli info: family, config, parameter count, hook point and weight names.
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"

namespace mechscope::cli {

int cmd_info(const std::vector<std::string>& argv) {
  auto specs = model_options();
  specs.push_back({"json", "", "print everything as one JSON object"});
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("info", "Shows a model's family, configuration, parameter count, hook "
                               "points and weight names.", specs);
    return 0;
  }
  auto model = load_model_from_args(args);
  const ModelConfig& c = model->config();
  nlohmann::json j = {
      {"path", model->source().path},
      {"format", model->source().format},
      {"family", c.family},
      {"architecture", c.architecture},
      {"parameters", model->parameter_count()},
      {"device", model->device().str()},
      {"config", c.to_json()},
      {"hook_points", model->hook_names()},
      {"weights", model->weights().tl_names()},
      {"tokenizer", model->tokenizer() ? "yes" : "none"},
  };
  if (args.has("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "Model:        " << model->source().path << " (" << model->source().format << ")\n"
            << "Family:       " << c.family << " (" << c.architecture << ")\n"
            << "Parameters:   " << model->parameter_count() << "\n"
            << "Layers:       " << c.n_layers << ", heads " << c.n_heads << " (kv " << c.n_kv_heads
            << "), d_model " << c.d_model << ", d_head " << c.d_head << ", d_mlp " << c.d_mlp
            << "\n"
            << "Vocabulary:   " << c.d_vocab << ", context " << c.n_ctx << "\n"
            << "Tokenizer:    " << (model->tokenizer() ? "yes" : "none") << "\n"
            << "Device:       " << model->device().str() << "\n"
            << "Config:\n" << c.to_json().dump(2) << "\n"
            << "Hook points (" << model->hook_names().size() << "):\n";
  for (const auto& n : model->hook_names()) std::cout << "  " << n << "\n";
  std::cout << "Weights (" << model->weights().tl_names().size() << "):\n";
  for (const auto& n : model->weights().tl_names()) {
    const at::Tensor w = model->weight(n);  // sizes() refers into the tensor: keep it alive
    const auto shape = w.sizes();
    std::cout << "  " << n << " [";
    for (size_t i = 0; i < shape.size(); ++i) std::cout << (i ? ", " : "") << shape[i];
    std::cout << "]\n";
  }
  return 0;
}

}  // namespace mechscope::cli
