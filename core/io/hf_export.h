#pragma once
/// Writing a model as a Hugging Face folder (config.json + model.safetensors) that mechscope and
/// `transformers` both load. Llama layout (LlamaForCausalLM): RMSNorm, gated SiLU MLP, rotary.
#include <filesystem>

#include "core/model/weights.h"

namespace mechscope {

/// Writes `weights` (whose config must be Llama-like: RMSNorm, gated MLP, full rotary, no
/// learned positions) to `dir`; throws mechscope::Error when the config cannot be expressed.
void export_hf_llama(const Weights& weights, const std::filesystem::path& dir);

}  // namespace mechscope
