#pragma once
/// Autoregressive generation, greedy or sampled with a seed, with a KV cache
/// (core/model/kv_cache.h) unless told not to.
#include <cstdint>
#include <functional>
#include <vector>

namespace at {
class Tensor;
}

namespace mechscope {

class Model;
class HookSet;

struct GenerateOptions {
  int64_t max_new_tokens = 32;
  double temperature = 0.0;  // 0 = greedy (argmax)
  int64_t top_k = 0;         // 0 = no top-k filtering
  uint64_t seed = 0;
  bool stop_at_eos = true;
  /// Called with each new token; return false to stop (also how callers cancel).
  std::function<bool(int64_t token)> on_token;
  /// Called with each step's next-token logits ([d_vocab] f32 on the CPU) before the token is
  /// chosen (tests compare cached and uncached generation with it).
  std::function<void(const at::Tensor& logits)> on_logits;
  /// Hooks carried by every forward pass (clamping, steering, ablation while generating). With
  /// the cache, each step's hooks see only the new positions (the prompt on the first step, then
  /// one token; see Model::run): hooks that treat every position alike give the same tokens as
  /// without the cache, hooks that address positions by index do not.
  const HookSet* hooks = nullptr;
  /// Keep the keys and values of earlier positions and run only the new token each step (the
  /// default). Without the cache every step recomputes the whole sequence; both give the same
  /// tokens, and logits equal to rounding. Once the sequence fills the context (n_ctx) the
  /// window slides: the earliest token is dropped and every position moves, so each further
  /// step recomputes the last n_ctx tokens from scratch on either path.
  bool use_cache = true;
  /// Vision-language models: the image [1, 3, S, S] the prompt's image tokens stand for. With
  /// an image, generation stops when the sequence fills the context (the window cannot slide
  /// past the image).
  const at::Tensor* pixel_values = nullptr;
};

/// Returns the prompt followed by the generated tokens.
std::vector<int64_t> generate(const Model& model, std::vector<int64_t> prompt,
                              const GenerateOptions& options);

}  // namespace mechscope
