#pragma once
/// The model's top-k next-token predictions after a prompt.
#include <cstdint>
#include <string>
#include <vector>

#include "core/image/image_file.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct Prediction {
  int64_t token = 0;
  std::string text;    // the token's readable text ("" without a tokenizer)
  double probability = 0;
  double logit = 0;
};

/// Top-k predictions at the last position of `tokens` (one prompt). With `image` (a
/// vision-language model), the prompt's image token stands for it (see prepare_image_tokens).
std::vector<Prediction> top_predictions(const Model& model, const std::vector<int64_t>& tokens,
                                        int64_t k, const RgbImage& image = {});

}  // namespace mechscope::probes
