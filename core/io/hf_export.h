#pragma once
/// Writing a model as a Hugging Face folder that mechscope and `transformers` both load:
/// LlamaForCausalLM (RMSNorm, gated SiLU MLP, rotary), or LlavaForConditionalGeneration (a CLIP
/// vision tower + projector + such a language model).
#include <filesystem>

#include "core/model/model.h"

namespace mechscope {

/// Writes config.json + model.safetensors; throws mechscope::Error when the configuration is not
/// Llama-like (RMSNorm, gated MLP, full rotary, sequential blocks).
void export_hf_llama(const Weights& weights, const std::filesystem::path& dir);

/// Writes config.json, preprocessor_config.json and model.safetensors of a vision-language model
/// (the tensor names transformers 5 writes: `vision_tower.*`, `multi_modal_projector.*`,
/// `language_model.model.*`, `language_model.lm_head.weight`).
void export_hf_llava(const Model& model, const std::filesystem::path& dir);

}  // namespace mechscope
