#pragma once
/// Autoregressive generation, greedy or sampled with a seed.
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
  /// Hooks carried by every forward pass (clamping, steering, ablation while generating).
  const HookSet* hooks = nullptr;
  /// Vision-language models: the image [1, 3, S, S] the prompt's image tokens stand for. With
  /// an image, generation stops when the sequence fills the context (the window cannot slide
  /// past the image).
  const at::Tensor* pixel_values = nullptr;
};

/// Returns the prompt followed by the generated tokens.
std::vector<int64_t> generate(const Model& model, std::vector<int64_t> prompt,
                              const GenerateOptions& options);

}  // namespace mechscope
