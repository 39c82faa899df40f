#include "core/model/generate.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <random>

#include "core/model/model.h"
#include "core/util/error.h"

namespace mechscope {

std::vector<int64_t> generate(const Model& model, std::vector<int64_t> tokens,
                              const GenerateOptions& options) {
  if (tokens.empty()) throw Error("Cannot generate from an empty prompt.");
  c10::InferenceMode guard;
  std::mt19937_64 rng(options.seed);
  const int64_t n_ctx = model.config().n_ctx;
  const bool image = options.pixel_values != nullptr && options.pixel_values->defined();
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    if (image && int64_t(tokens.size()) >= n_ctx) break;
    // The most recent n_ctx tokens fit the context.
    const int64_t start = std::max<int64_t>(0, int64_t(tokens.size()) - n_ctx);
    at::Tensor input =
        at::tensor(std::vector<int64_t>(tokens.begin() + start, tokens.end()), at::kLong)
            .unsqueeze(0);  // [1, pos]
    const ForwardOutput out = image ? model.run_multimodal(input, *options.pixel_values, {}, options.hooks)
                                    : model.run(input, {}, options.hooks);
    at::Tensor logits = out.logits.select(1, -1)
                            .squeeze(0)
                            .to(at::kCPU)
                            .to(at::kFloat);
    int64_t next = 0;
    if (options.temperature <= 0) {
      next = logits.argmax().item<int64_t>();
    } else {
      at::Tensor scaled = logits / options.temperature;  // [d_vocab]
      if (options.top_k > 0 && options.top_k < scaled.size(0)) {
        const float kth = std::get<0>(scaled.topk(options.top_k)).min().item<float>();
        scaled = scaled.masked_fill(scaled < kth, -std::numeric_limits<float>::infinity());
      }
      at::Tensor probs = at::softmax(scaled, 0).contiguous();
      const float* p = probs.data_ptr<float>();
      std::discrete_distribution<int64_t> dist(p, p + probs.numel());
      next = dist(rng);
    }
    tokens.push_back(next);
    if (options.on_token && !options.on_token(next)) break;
    if (options.stop_at_eos && model.config().eos_token_id && next == *model.config().eos_token_id)
      break;
  }
  return tokens;
}

}  // namespace mechscope
