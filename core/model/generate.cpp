#include "core/model/generate.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <random>

#include "core/model/kv_cache.h"
#include "core/model/model.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

/// The next token from next-token logits [d_vocab] (f32, CPU): the argmax, or a draw from the
/// softmax of logits / temperature, over the top_k logits when top_k > 0.
int64_t choose_token(const at::Tensor& logits, const GenerateOptions& options,
                     std::mt19937_64& rng) {
  if (options.temperature <= 0) return logits.argmax().item<int64_t>();
  at::Tensor scaled = logits / options.temperature;  // [d_vocab]
  if (options.top_k > 0 && options.top_k < scaled.size(0)) {
    const float kth = std::get<0>(scaled.topk(options.top_k)).min().item<float>();
    scaled = scaled.masked_fill(scaled < kth, -std::numeric_limits<float>::infinity());
  }
  at::Tensor probs = at::softmax(scaled, 0).contiguous();  // [d_vocab]
  const float* p = probs.data_ptr<float>();
  std::discrete_distribution<int64_t> dist(p, p + probs.numel());
  return dist(rng);
}

}  // namespace

std::vector<int64_t> generate(const Model& model, std::vector<int64_t> tokens,
                              const GenerateOptions& options) {
  if (tokens.empty()) throw Error("Cannot generate from an empty prompt.");
  c10::InferenceMode guard;
  std::mt19937_64 rng(options.seed);
  const int64_t n_ctx = model.config().n_ctx;
  const bool image = options.pixel_values != nullptr && options.pixel_values->defined();
  // Keys and values of tokens[0 … cache.length() - 1], with room for the whole generation.
  KVCache cache(std::min<int64_t>(n_ctx, int64_t(tokens.size()) + options.max_new_tokens));
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const int64_t n = int64_t(tokens.size());
    if (image && n >= n_ctx) break;
    // The most recent n_ctx tokens fit the context.
    const int64_t start = std::max<int64_t>(0, n - n_ctx);
    // While nothing slid out of the window, the cached run computes only the tokens after the
    // cached ones (the prompt, then one token per step); after a slide every position has moved,
    // so the window is run from scratch (as without the cache).
    KVCache* kv = options.use_cache && start == 0 ? &cache : nullptr;
    const int64_t from = kv != nullptr ? cache.length() : start;
    at::Tensor input =
        at::tensor(std::vector<int64_t>(tokens.begin() + from, tokens.end()), at::kLong)
            .unsqueeze(0);  // [1, pos]
    // The image's features enter on the run that computes its positions (every run without the
    // cache, the first with it).
    const ForwardOutput out =
        image && from == 0
            ? model.run_multimodal(input, *options.pixel_values, {}, options.hooks, kv)
            : model.run(input, {}, options.hooks, kv);
    if (!out.logits.defined())
      throw Error(
          "A hook stopped the forward pass, so there are no logits to choose the next "
          "token from.");
    at::Tensor logits =
        out.logits.select(1, -1).squeeze(0).to(at::kCPU).to(at::kFloat);  // [d_vocab]
    if (options.on_logits) options.on_logits(logits);
    const int64_t next = choose_token(logits, options, rng);
    tokens.push_back(next);
    if (options.on_token && !options.on_token(next)) break;
    if (options.stop_at_eos && model.config().eos_token_id && next == *model.config().eos_token_id)
      break;
  }
  return tokens;
}

}  // namespace mechscope
