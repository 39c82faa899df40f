// mechscope-cli info: family, config, parameter count, hook point and weight names.
#include <algorithm>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/gguf/gguf_file.h"
#include "core/tokenizer/gguf_tokenizer.h"

namespace mechscope::cli {
namespace {

/// What a GGUF file says beyond the model: version, tensor types, tokenizer.
nlohmann::json gguf_facts(const std::string& path) {
  const gguf::File f(path);
  std::map<std::string, int> counts;
  for (const auto& t : f.tensors()) ++counts[gguf::tensor_type_name(t.type)];
  std::vector<std::pair<std::string, int>> types(counts.begin(), counts.end());
  std::stable_sort(types.begin(), types.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string histogram;
  for (const auto& [name, n] : types)
    histogram += (histogram.empty() ? "" : ", ") + name + " \u00d7" + std::to_string(n);
  nlohmann::json j = {{"version", f.version()},
                      {"architecture", f.string("general.architecture", "")},
                      {"name", f.string("general.name", "")},
                      {"tensor_types", histogram}};
  if (f.has("tokenizer.ggml.model")) {
    const GgufTokenizerInfo t = read_gguf_tokenizer_info(f);
    j["tokenizer"] = {{"model", t.model}, {"pre", t.pre}, {"vocab_size", t.vocab_size},
                      {"add_bos", t.add_bos}, {"chat_template", !t.chat_template.empty()}};
  }
  return j;
}

}  // namespace

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
  if (model->source().format == "gguf") j["gguf"] = gguf_facts(model->source().path);
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
            << "Device:       " << model->device().str() << "\n";
  if (j.contains("gguf")) {
    const auto& g = j["gguf"];
    std::cout << "GGUF:         version " << g["version"] << ", '"
              << g["architecture"].get<std::string>() << "' "
              << g["name"].get<std::string>() << "\n"
              << "Tensor types: " << g["tensor_types"].get<std::string>() << "\n";
    if (g.contains("tokenizer")) {
      const auto& t = g["tokenizer"];
      std::cout << "GGUF tokens:  " << t["model"].get<std::string>() << " (pre '"
                << t["pre"].get<std::string>() << "'), " << t["vocab_size"] << " tokens, "
                << (t["add_bos"].get<bool>() ? "adds BOS" : "no BOS") << ", chat template "
                << (t["chat_template"].get<bool>() ? "present" : "absent") << "\n";
    }
  }
  std::cout << "Config:\n" << c.to_json().dump(2) << "\n"
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
