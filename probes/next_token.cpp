#include "probes/next_token.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "probes/run_probe.h"
#include "probes/tensors.h"

namespace mechscope::probes {

std::vector<Prediction> top_predictions(const Model& model, const std::vector<int64_t>& tokens,
                                        int64_t k, const RgbImage& image) {
  c10::InferenceMode guard;
  ProbeInputs in;
  in.tokens = tokens;
  in.image_rgb = image;
  prepare_image_tokens(model, in);
  const at::Tensor logits = run_tokens(model, prompt_tensor(model, in.tokens), prompt_pixels(model, in))
                                .logits[0][-1]
                                .to(at::kCPU)
                                .to(at::kFloat);  // [d_vocab]
  at::Tensor probs = at::softmax(logits, 0);
  k = std::min<int64_t>(k, logits.size(0));
  auto [top, idx] = logits.topk(k);
  std::vector<Prediction> out;
  for (int64_t i = 0; i < k; ++i) {
    Prediction p;
    p.token = idx[i].item<int64_t>();
    p.logit = top[i].item<double>();
    p.probability = probs[p.token].item<double>();
    if (model.tokenizer() != nullptr) p.text = model.tokenizer()->token_text(p.token);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace mechscope::probes
