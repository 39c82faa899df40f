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
Adapter gemma_adapter();
Adapter gemma2_adapter();
Adapter gemma3_adapter();

/// The config fields Llama, Mistral and Qwen2 share (RMSNorm, SwiGLU, full rotary, GQA).
ModelConfig read_llama_like_config(const ConfigFields& f);
/// The tensor table Llama, Mistral and Qwen2 share (`model.layers.{L}.self_attn.q_proj`, …).
void llama_like_tensors(const ModelConfig& c, TensorRules& r);
/// One layer's attention and MLP projections in that layout (`self_attn.q_proj` … `mlp.down_proj`,
/// biases as the config says), from the checkpoint prefix `h` to the canonical prefix `b`.
void llama_like_projections(const ModelConfig& c, TensorRules& r, const std::string& h,
                            const std::string& b);

/// The config fields every Gemma generation shares: the Llama-like ones with HF's Gemma defaults,
/// GeGLU (the activation named by `activation_key`), the √d_model embedding scale.
ModelConfig read_gemma_config(const ConfigFields& f, const char* activation_key);
/// What Gemma 2 and 3 add: sandwich norms, query_pre_attn_scalar, local (sliding-window) and
/// global layers (`layer_types`, or every `pattern`-th layer global), final-logit soft-capping
/// (`final_soft_cap` when the field is absent; none when it is null).
void read_gemma2_like_config(const ConfigFields& f, ModelConfig& c, int64_t pattern,
                             double final_soft_cap);
/// The tensor table of Gemma 1/2/3: the Llama projections, every norm gain loaded as 1 + w, the
/// sandwich norms and q/k norms when the config has them.
void gemma_tensors(const ModelConfig& c, TensorRules& r);

}  // namespace mechscope
