#include "core/model/model.h"

#include <ATen/ATen.h>

#include "core/util/error.h"

namespace mechscope {

Model::Model(ModelConfig cfg, Weights weights, std::shared_ptr<const Tokenizer> tokenizer,
             ModelSource source)
    : cfg_(std::move(cfg)),
      weights_(std::move(weights)),
      tokenizer_(std::move(tokenizer)),
      source_(std::move(source)),
      points_(cfg_) {}

void Model::to(at::Device device, at::ScalarType dtype) {
  weights_.to(at::TensorOptions().device(device).dtype(dtype));
}

ActivationCache Model::run_with_cache(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                      const NameFilter& keep, at::Tensor* logits) const {
  ActivationCache cache;
  HookSet hooks;
  NameFilter filter = keep ? keep : [](const std::string&) { return true; };
  hooks.add(filter, [&cache](HookCall& call) { cache[call.name] = call.value; });
  ForwardOutput out = run(tokens, attention_mask, &hooks);
  if (logits != nullptr) *logits = out.logits;
  return cache;
}

std::pair<at::Tensor, at::Tensor> Model::tokenize(const std::vector<std::string>& prompts) const {
  if (tokenizer_ == nullptr)
    throw Error("This model has no tokenizer; give one with --tokenizer or pass token ids.");
  std::vector<std::vector<int64_t>> ids;
  int64_t longest = 0;
  for (const auto& p : prompts) {
    ids.push_back(tokenizer_->encode(p, true).ids);
    if (ids.back().empty()) throw Error("The prompt '" + p + "' encodes to no tokens.");
    longest = std::max<int64_t>(longest, ids.back().size());
  }
  at::Tensor tokens = at::zeros({int64_t(prompts.size()), longest}, at::kLong);
  at::Tensor mask = at::zeros({int64_t(prompts.size()), longest}, at::kLong);
  for (size_t b = 0; b < ids.size(); ++b)
    for (size_t i = 0; i < ids[b].size(); ++i) {
      tokens[b][i] = ids[b][i];
      mask[b][i] = 1;
    }
  return {tokens, mask};
}

}  // namespace mechscope
