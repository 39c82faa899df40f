#pragma once
/// LibTorch ↔ Result helpers the built-in probes share.
#include <ATen/Tensor.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/model/model.h"
#include "core/session/result.h"
#include "probes/probe.h"

namespace mechscope::probes {

/// A float32 CPU copy of `t` as an Array with these axes (one per dimension).
Array to_array(const at::Tensor& t, std::vector<Axis> axes);

/// One prompt as a [1, pos] int64 tensor on the model's device.
at::Tensor prompt_tensor(const Model& model, const std::vector<int64_t>& tokens);

/// The prompt's image as pixel values [1, 3, S, S] on the model's device (preprocessed as the
/// model's preprocessor_config.json says), or an undefined tensor without an image.
at::Tensor prompt_pixels(const Model& model, const ProbeInputs& inputs);

/// The forward pass of `tokens` [batch, pos], through the vision side when `pixels` is defined
/// ([1 or batch, 3, S, S]; one image is shared by every row).
ForwardOutput run_tokens(const Model& model, const at::Tensor& tokens, const at::Tensor& pixels,
                         const HookSet* hooks = nullptr);

/// {"<id>": "<text>"} for every id in `ids` (any shape, ids stored as numbers): what views show
/// for *_token arrays (they have no tokenizer).
nlohmann::json token_strings(const Model& model, const at::Tensor& ids);

/// Axis labels "1" … "k".
std::vector<std::string> rank_labels(int64_t k);

/// Top-k next tokens of logits [..., d_vocab]: {probabilities [..., k], ids [..., k] as float}.
std::pair<at::Tensor, at::Tensor> top_tokens(const at::Tensor& logits, int64_t k);

/// How many patched variants of a [pos]-token prompt fit in one batched forward pass: bounded by
/// the memory available (a quarter of it) and by `cap`. Throws mechscope::Error naming the
/// estimate and the free memory when not even one fits.
int64_t sweep_batch_size(const Model& model, int64_t pos, int64_t cap = 256);

}  // namespace mechscope::probes
