#pragma once
/// The adapter of each checkpoint family (one file each) and the pieces Llama-like families share.
#include "core/adapters/adapter.h"

namespace mechscope {

Adapter gpt2_adapter();
Adapter gpt_neox_adapter();
Adapter llama_adapter();
Adapter mistral_adapter();
Adapter qwen2_adapter();
Adapter llava_adapter();

/// The config fields Llama, Mistral and Qwen2 share (RMSNorm, SwiGLU, full rotary, GQA).
ModelConfig read_llama_like_config(const ConfigFields& f);
/// The tensor table Llama, Mistral and Qwen2 share (`model.layers.{L}.self_attn.q_proj`, …).
void llama_like_tensors(const ModelConfig& c, TensorRules& r);

}  // namespace mechscope
