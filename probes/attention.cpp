#include "probes/attention.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstring>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

Result attention_result(const Model& model, const std::vector<int64_t>& tokens,
                        const AttentionOptions& options) {
  if (tokens.empty()) throw Error("The attention probe needs a prompt of at least one token.");
  auto go_on = [&](double done) { return !options.progress || options.progress(done); };
  if (!go_on(0.0)) throw Cancelled();

  const ModelConfig& c = model.config();
  const int64_t layers = c.n_layers, heads = c.n_heads;
  const int64_t pos = static_cast<int64_t>(tokens.size());
  const int64_t per_layer = heads * pos * pos;
  Array pattern;  // [layer, head, query, key]
  pattern.shape = {layers, heads, pos, pos};
  pattern.data.resize(static_cast<size_t>(layers * per_layer));

  // One hook per layer copies that layer's pattern out and reports progress, so a cancel stops
  // the forward pass at the next layer.
  c10::InferenceMode guard;
  bool cancelled = false;
  int64_t layers_seen = 0;
  HookSet hooks;
  for (int64_t l = 0; l < layers; ++l) {
    hooks.add(HookKind::Pattern, static_cast<int>(l), [&, l](HookCall& h) {
      at::Tensor p = h.value.select(0, 0).to(at::kCPU).to(at::kFloat).contiguous();  // [head, q, k]
      if (p.numel() != per_layer)
        throw Error("The attention pattern of layer " + std::to_string(l) +
                    " has an unexpected shape.");
      std::memcpy(pattern.data.data() + l * per_layer, p.data_ptr<float>(),
                  per_layer * sizeof(float));
      ++layers_seen;
      if (!go_on(double(l + 1) / double(layers))) cancelled = h.stop = true;
    });
  }
  ProbeInputs with_image;
  with_image.image_rgb = options.image;
  run_tokens(model, prompt_tensor(model, tokens), prompt_pixels(model, with_image), &hooks);
  if (cancelled) throw Cancelled();
  if (layers_seen != layers)
    throw Error("The model reported attention patterns for " + std::to_string(layers_seen) +
                " of its " + std::to_string(layers) + " layers.");

  const std::vector<std::string> token_text = token_labels(model, tokens);
  pattern.axes = {{"layer", index_labels("L", layers)},
                  {"head", index_labels("H", heads)},
                  {"query", token_text},
                  {"key", token_text}};
  Result result;
  result.id = "attention-1";
  result.probe = "attention";
  result.title = result_title("Attention", options.prompt);
  result.arrays.emplace("pattern", std::move(pattern));
  result.meta = result_meta(model, "attention", nlohmann::json::object(),
                            {{"prompt", options.prompt}, {"tokens", tokens}});
  return result;
}

std::shared_ptr<const Probe> attention_probe() {
  ProbeInfo info;
  info.name = "attention";
  info.title = "Attention maps";
  info.description = "Every head's attention pattern on the prompt.";
  info.inputs = {{Input::Prompt, true, "the prompt to look at"},
                 {Input::Image, false, "the image (vision-language models)"}};
  info.arrays = {{"pattern", {"layer", "head", "query", "key"},
                  "softmax attention of each head, rows = query positions"}};
  return std::make_shared<FunctionProbe>(
      std::move(info), [](const Model& model, const ProbeInputs& in, const Options&,
                          const Progress& progress) {
        AttentionOptions options;
        options.prompt = in.prompt;
        options.progress = progress;
        options.image = in.image_rgb;
        return attention_result(model, in.tokens, options);
      });
}

}  // namespace mechscope::probes
