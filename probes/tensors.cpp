#include "probes/tensors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "core/model/model.h"
#include "core/model/vision.h"
#include "core/util/error.h"
#include "core/util/memory.h"
#include "probes/result_meta.h"

namespace mechscope::probes {

Array to_array(const at::Tensor& t, std::vector<Axis> axes) {
  const at::Tensor c = t.detach().to(at::kCPU).to(at::kFloat).contiguous();
  if (static_cast<size_t>(c.dim()) != axes.size())
    throw Error("Internal error: an array of " + std::to_string(c.dim()) + " dimensions got " +
                std::to_string(axes.size()) + " axes.");
  Array a;
  a.shape.assign(c.sizes().begin(), c.sizes().end());
  a.data.resize(static_cast<size_t>(c.numel()));
  if (c.numel() > 0) std::memcpy(a.data.data(), c.data_ptr<float>(), c.numel() * sizeof(float));
  a.axes = std::move(axes);
  return a;
}

at::Tensor prompt_tensor(const Model& model, const std::vector<int64_t>& tokens) {
  return at::tensor(tokens, at::kLong).view({1, -1}).to(model.device());
}

at::Tensor prompt_pixels(const Model& model, const ProbeInputs& inputs) {
  if (inputs.image_rgb.empty() || !model.vision()) return {};
  const RgbImage& im = inputs.image_rgb;
  return preprocess_image(im.rgb.data(), im.height, im.width, model.vision()->preprocess())
      .unsqueeze(0)
      .to(model.device(), model.dtype());
}

ForwardOutput run_tokens(const Model& model, const at::Tensor& tokens, const at::Tensor& pixels,
                         const HookSet* hooks) {
  if (!pixels.defined()) return model.run(tokens, {}, hooks);
  const at::Tensor px = pixels.size(0) == tokens.size(0)
                            ? pixels
                            : pixels.expand({tokens.size(0), -1, -1, -1}).contiguous();
  return model.run_multimodal(tokens, px, {}, hooks);
}

nlohmann::json token_strings(const Model& model, const at::Tensor& ids) {
  const at::Tensor flat = std::get<0>(at::_unique(ids.reshape(-1).to(at::kCPU).to(at::kLong)));
  std::vector<int64_t> list(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
  const std::vector<std::string> text = token_labels(model, list);
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < list.size(); ++i) out[std::to_string(list[i])] = text[i];
  return out;
}

std::vector<std::string> rank_labels(int64_t k) {
  std::vector<std::string> out;
  for (int64_t i = 1; i <= k; ++i) out.push_back(std::to_string(i));
  return out;
}

std::pair<at::Tensor, at::Tensor> top_tokens(const at::Tensor& logits, int64_t k) {
  k = std::min<int64_t>(k, logits.size(-1));
  auto [prob, ids] = at::softmax(logits.to(at::kFloat), -1).topk(k, -1);
  return {prob, ids.to(at::kFloat)};
}

int64_t sweep_batch_size(const Model& model, int64_t pos, int64_t cap) {
  const ModelConfig& c = model.config();
  // Floats alive per patched variant at the peak of one block, plus its last-position logits.
  const int64_t per_row = pos * (8 * c.d_model + 3 * c.d_mlp + 3 * c.n_heads * pos +
                                 (c.n_heads + 2 * c.n_kv_heads) * c.d_head) +
                          2 * c.d_vocab;
  const int64_t bytes = per_row * 4;
  // One row must fit (with the weights already loaded); more rows share a quarter of what is free.
  check_fits_in_memory(uint64_t(bytes) * 2,
                       "One forward pass of " + std::to_string(pos) + " positions of this sweep");
  const int64_t avail = available_memory_bytes();
  const int64_t fit = avail > 0 ? avail / 4 / std::max<int64_t>(bytes, 1) : cap;
  return std::clamp<int64_t>(fit, 1, cap);
}

}  // namespace mechscope::probes
