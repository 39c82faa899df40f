#pragma once
/// LibTorch ↔ Result helpers the built-in probes share.
#include <ATen/Tensor.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/session/result.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

/// A float32 CPU copy of `t` as an Array with these axes (one per dimension).
Array to_array(const at::Tensor& t, std::vector<Axis> axes);

/// One prompt as a [1, pos] int64 tensor on the model's device.
at::Tensor prompt_tensor(const Model& model, const std::vector<int64_t>& tokens);

/// {"<id>": "<text>"} for every id in `ids` (any shape, ids stored as numbers): what views show
/// for *_token arrays (they have no tokenizer).
nlohmann::json token_strings(const Model& model, const at::Tensor& ids);

/// Axis labels "1" … "k".
std::vector<std::string> rank_labels(int64_t k);

/// Top-k next tokens of logits [..., d_vocab]: {probabilities [..., k], ids [..., k] as float}.
std::pair<at::Tensor, at::Tensor> top_tokens(const at::Tensor& logits, int64_t k);

/// How many patched variants of a [pos]-token prompt fit in one batched forward pass: bounded by
/// the memory available (a quarter of it) and by `cap`.
int64_t sweep_batch_size(const Model& model, int64_t pos, int64_t cap = 256);

}  // namespace mechscope::probes
