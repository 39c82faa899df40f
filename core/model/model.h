#pragma once
/// The one hooked transformer: a config, its weights, its tokenizer and the hook points. Every
/// supported checkpoint family runs through this forward pass.
#include <ATen/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/config.h"
#include "core/model/hooks.h"
#include "core/model/weights.h"
#include "core/tokenizer/tokenizer.h"

namespace mechscope {

class KVCache;
class VisionEncoder;

/// What a sequence position holds (cross-modal probes group positions by it).
enum class PositionKind : int8_t { Text, Image, Last };

/// Activations by hook name, batch dimension kept.
using ActivationCache = std::map<std::string, at::Tensor>;

struct ForwardOutput {
  at::Tensor logits;  // [batch, pos, d_vocab]; undefined when a hook stopped the run or encoders
  at::Tensor resid;   // [batch, pos, d_model] the residual stream after the last block
  bool stopped = false;
};

/// Where a model came from (shown in the GUI, stored in session metadata).
struct ModelSource {
  std::string path;    // file or folder given by the user
  std::string format;  // "huggingface", "llama2c", …
};

class Model {
 public:
  /// `hook_prefix` prefixes every hook name (e.g. "vision." for a vision tower).
  Model(ModelConfig cfg, Weights weights, std::shared_ptr<const Tokenizer> tokenizer,
        ModelSource source, const std::string& hook_prefix = "");

  const ModelConfig& config() const { return cfg_; }
  const ModelSource& source() const { return source_; }
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  void set_tokenizer(std::shared_ptr<const Tokenizer> t) { tokenizer_ = std::move(t); }
  Weights& weights() { return weights_; }
  const Weights& weights() const { return weights_; }
  /// A weight by TransformerLens name and shape (see Weights::tl).
  at::Tensor weight(const std::string& tl_name, bool expand_kv = false) const {
    return weights_.tl(tl_name, expand_kv);
  }
  const HookPoints& hook_points() const { return points_; }
  /// Hooks every forward pass of this model carries, called before the caller's own at each
  /// point: an SAE spliced in, a steering vector (the CLI's --sae/--steer, the workbench's SAE
  /// panel). Every probe and generation then sees the edited model. Null (the default): none.
  /// `description` (JSON text, e.g. {"sae": folder, "hook": …}) says what they do; Results record
  /// it in their metadata ("standing_hooks").
  void set_standing_hooks(std::shared_ptr<const HookSet> hooks, std::string description = "") {
    standing_ = std::move(hooks);
    standing_description_ = standing_ ? std::move(description) : std::string();
  }
  const HookSet* standing_hooks() const { return standing_.get(); }
  const std::string& standing_description() const { return standing_description_; }
  /// Every hook point, in forward order (the vision tower's first for vision-language models).
  std::vector<std::string> hook_names() const;
  /// The weight-processing steps applied so far (core/model/weight_processing.h), in order.
  const std::vector<std::string>& processing() const { return processing_; }
  void add_processing(const std::vector<std::string>& steps) {
    processing_.insert(processing_.end(), steps.begin(), steps.end());
  }
  /// Parameters of every part (a tied unembedding counted once; the vision side included).
  int64_t parameter_count() const;

  /// Moves weights to a device / dtype (f32 default; f16/bf16 intended for CUDA).
  void to(at::Device device, at::ScalarType dtype = at::kFloat);
  at::Device device() const { return weights_.layers.at(0).qkv_w.device(); }
  at::ScalarType dtype() const { return weights_.layers.at(0).qkv_w.scalar_type(); }

  /// The hooked forward pass. `tokens` [batch, pos] int64; `attention_mask` [batch, pos] (1 =
  /// real token; optional; with padding each prompt gets exactly the result it gets alone).
  /// Throws mechscope::Error for ids ≥ d_vocab or sequences longer than n_ctx.
  ///
  /// With a `cache` (core/model/kv_cache.h; generation), `tokens` are the positions after the
  /// cache.length() cached ones: they are computed at positions cache.length() … + pos - 1,
  /// attend to the cached keys and values and their own (causally, inside sliding windows), and
  /// their keys and values are appended to the cache. Hooks fire for the new positions only:
  /// every hook tensor's pos axis holds the pos new tokens (hook_attn_scores / hook_pattern:
  /// [batch, n_heads, pos, cache.length() + pos], keys of every position), so a hook that edits
  /// every position (clamping, steering, ablation) gives the same results as running the whole
  /// sequence with it; one that addresses positions by index must add cache.length(). A run
  /// with a cache takes no attention mask (no padding), and its hooks may not prepend keys and
  /// values (the cache holds the earlier positions). Throws mechscope::Error when the cached and
  /// new positions together exceed n_ctx.
  ForwardOutput run(const at::Tensor& tokens, const at::Tensor& attention_mask = {},
                    const HookSet* hooks = nullptr, KVCache* cache = nullptr) const;
  /// The forward pass from input embeddings [batch, pos, d_model] (token embeddings with, e.g.,
  /// image features spliced in); `hook_embed` sees them. `cache` as for run.
  ForwardOutput run_embeds(const at::Tensor& embeds, const at::Tensor& attention_mask = {},
                           const HookSet* hooks = nullptr, KVCache* cache = nullptr) const;
  /// The forward pass from the residual stream entering block `layer` ([batch, pos, d_model],
  /// i.e. blocks.{layer}.hook_resid_pre of an earlier run on the same positions and mask): blocks
  /// `layer`… and the unembedding run, hooks of earlier layers never fire. Sweeps that patch
  /// layer L reuse the unpatched run's prefix this way. `layer` = n_layers runs only the final
  /// norm and unembedding.
  ForwardOutput run_from(int layer, const at::Tensor& resid_pre,
                         const at::Tensor& attention_mask = {}, const HookSet* hooks = nullptr) const;
  /// Token embeddings [..., d_model] of ids [...] as the forward pass uses them (multiplied by
  /// embed_scale: Gemma's √d_model in the model's dtype).
  at::Tensor embed_tokens(const at::Tensor& ids) const;
  /// The final norm (with each row's own statistics) and the unembedding of residual-stream
  /// vectors [..., d_model] → logits [..., d_vocab], no hooks: the logit lens, and the last
  /// position of a run stopped before its own unembedding.
  at::Tensor unembed(const at::Tensor& resid) const;
  /// Logits [batch, pos, d_vocab].
  at::Tensor forward(const at::Tensor& tokens, const at::Tensor& attention_mask = {}) const {
    return run(tokens, attention_mask).logits;
  }
  /// Runs and keeps the activations whose names pass `keep` (all when null). Writes the logits
  /// to `logits` when given. Only requested points are kept. Throws mechscope::Error naming the
  /// estimate and the free memory when the kept activations cannot fit.
  /// `pixel_values` (vision-language models) as for run_multimodal.
  ActivationCache run_with_cache(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                 const NameFilter& keep, at::Tensor* logits = nullptr,
                                 const at::Tensor& pixel_values = {}) const;

  // Vision-language models (LLaVA layout).
  void set_vision(std::shared_ptr<VisionEncoder> vision, int64_t image_token_id);
  const VisionEncoder* vision() const { return vision_.get(); }
  VisionEncoder* vision() { return vision_.get(); }
  std::optional<int64_t> image_token_id() const { return image_token_id_; }
  /// The forward pass with images: `tokens` hold tokens_per_image image tokens per image (see
  /// expand_image_tokens), whose embeddings are replaced by the image features of
  /// `pixel_values` [batch, 3, S, S] (one image per prompt), in order. With a `cache` (as for
  /// run), this is the first run of a generation: later runs of new text tokens take run(…,
  /// cache), the image's positions being in the cache.
  ForwardOutput run_multimodal(const at::Tensor& tokens, const at::Tensor& pixel_values,
                               const at::Tensor& attention_mask = {},
                               const HookSet* hooks = nullptr, KVCache* cache = nullptr) const;
  /// Each single image token in `ids` becomes tokens_per_image copies (what HF processors do).
  std::vector<int64_t> expand_image_tokens(const std::vector<int64_t>& ids) const;
  /// Image patch, text token, or the last position, for each position of `ids`.
  std::vector<PositionKind> position_kinds(const std::vector<int64_t>& ids) const;

  /// Floats per position (per batch row) an activation of `kind` holds, for `positions`
  /// positions (attention patterns and scores grow with them).
  int64_t hook_width(HookKind kind, int64_t positions) const;

  /// Encodes prompts with the model's tokenizer (adding BOS as the tokenizer says) into a
  /// right-padded [batch, pos] tensor and its attention mask.
  std::pair<at::Tensor, at::Tensor> tokenize(const std::vector<std::string>& prompts) const;

 private:
  struct Run;  // per-call state of the forward pass (transformer.cpp)
  /// From the embeddings (start < 0) or from block `start`'s residual input; `cache` (optional)
  /// as for run.
  ForwardOutput forward_from(int start, const at::Tensor& input, const at::Tensor& mask,
                             const HookSet* hooks, KVCache* cache = nullptr) const;
  at::Tensor block(Run& run, int layer, at::Tensor x) const;
  at::Tensor attention(Run& run, int layer, const at::Tensor& x) const;
  at::Tensor mlp(Run& run, int layer, const at::Tensor& x) const;
  at::Tensor norm(Run& run, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                  HookKind scale_kind, HookKind normalized_kind, int layer) const;

  ModelConfig cfg_;
  Weights weights_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  ModelSource source_;
  HookPoints points_;
  std::shared_ptr<VisionEncoder> vision_;
  std::optional<int64_t> image_token_id_;
  std::vector<std::string> processing_;
  std::shared_ptr<const HookSet> standing_;
  std::string standing_description_;
};

}  // namespace mechscope
