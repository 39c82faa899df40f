#pragma once
/// What the patching probes share: the targets (option `target`), the axes of their `effect`
/// array, caching activations by kind, and the batched activation-patching sweep.
#include <ATen/Tensor.h>

#include <string>
#include <vector>

#include "core/model/hooks.h"
#include "core/session/result.h"
#include "probes/metric.h"
#include "probes/probe.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

enum class Target { ResidPre, ResidMid, ResidPost, AttnOut, MlpOut, Z, Q, K, V, Pattern, Block, Neuron };

/// What every patching probe takes: the clean prompt, the corrupted prompt, the answer and
/// (optionally) the wrong answer.
std::vector<InputSpec> patching_inputs();

/// "resid_pre" … "block" (and "neuron" when `with_neuron`), in this order.
std::vector<std::string> target_choices(bool with_neuron);
Target parse_target(const std::string& name);
const char* target_name(Target target);
/// The hook point a target patches (Block: resid_pre; its other components are attn_out, mlp_out).
HookKind target_hook(Target target);
/// Per-head targets: z, q, k, v, pattern.
bool is_head_target(Target target);
/// The block target's components, in the order of its `component` axis.
const std::vector<HookKind>& block_components();

/// Throws mechscope::Error when the model lacks the target's hook point (resid_mid of a
/// parallel-attention model) or `per_position` is asked of a non-head target.
void check_target(const Model& model, Target target, bool per_position);

/// The axes of the `effect` array: [layer, position] (residual targets), [layer, head] (head
/// targets; k and v of a grouped-query model have n_kv_heads "KV" heads), [layer, position, head]
/// (head targets per position), [component, layer, position] (block), [layer, neuron] (neuron).
std::vector<Axis> effect_axes(const Model& model, Target target, bool per_position,
                              const std::vector<std::string>& token_text);

/// Activations of `kinds` in every layer of one forward pass, by kind then layer.
struct KindCache {
  std::map<HookKind, std::vector<at::Tensor>> acts;  // kind → [layer] → activation (batch kept)
  at::Tensor logits;  // [batch, pos, d_vocab]; [batch, 1, d_vocab] (last position) by default
  at::Tensor resid_final;                            // [batch, pos, d_model]
  const at::Tensor& at(HookKind kind, int layer) const { return acts.at(kind).at(layer); }
};
/// Runs `tokens` [batch, pos] keeping `kinds` in every layer (global kinds: layer 0 only). Only
/// the last position is unembedded unless `all_logits`. `pixels`: the image of a
/// vision-language prompt (see run_tokens), or undefined.
KindCache run_with_kinds(const Model& model, const at::Tensor& tokens,
                         const std::vector<HookKind>& kinds, bool all_logits = false,
                         const at::Tensor& pixels = {});

/// Output of an activation-patching sweep, shaped like the `effect` array.
struct SweepResult {
  at::Tensor effect;     // [effect shape] metric of each patched run
  at::Tensor top_prob;   // [effect shape, k] the patched runs' top-k next-token probabilities
  at::Tensor top_token;  // [effect shape, k] their token ids (float)
};

/// TransformerLens patching.py semantics (denoising): run the corrupted prompt and patch in the
/// clean activation at one index per cell. Every cell is one row of a batched forward pass that
/// starts at the patched layer from the corrupted run's residual stream (the unpatched prefix is
/// computed once). Sets `metric`'s baselines from its own clean and corrupted runs. Reports
/// progress between `lo` and `hi`.
SweepResult activation_patching_sweep(const Model& model, const std::vector<int64_t>& clean,
                                      const std::vector<int64_t>& corrupt, Target target,
                                      bool per_position, Metric& metric, int64_t top_k,
                                      const Progress& progress, double lo = 0, double hi = 1);

/// Sets `metric`'s baselines from the last-position logits of a clean and a corrupted run.
void set_baselines(const KindCache& clean, const KindCache& corrupt, Metric& metric);

/// Parses "L2H3,L2H5" into (layer, head) pairs, checked against the model.
std::vector<std::pair<int, int>> parse_heads(const Model& model, const std::string& text);

}  // namespace mechscope::probes
