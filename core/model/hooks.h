#pragma once
/// Hook points (TransformerLens names) and the subscriptions a run carries. Hooks are explicit
/// calls in the forward pass; a point nobody subscribed to costs one table lookup.
#include <ATen/Tensor.h>

#include <functional>
#include <string>
#include <vector>

namespace mechscope {

struct ModelConfig;

/// The kinds of hook point. Global ones (embedding, final norm) have layer -1.
enum class HookKind : int {
  Embed,              // hook_embed                       [batch, pos, d_model]
  PosEmbed,           // hook_pos_embed                   [batch, pos, d_model]
  ResidPre,           // blocks.L.hook_resid_pre           [batch, pos, d_model]
  Ln1Scale,           // blocks.L.ln1.hook_scale           [batch, pos, 1]
  Ln1Normalized,      // blocks.L.ln1.hook_normalized      [batch, pos, d_model] (before gain/bias)
  Q,                  // blocks.L.attn.hook_q              [batch, pos, n_heads, d_head]
  K,                  // blocks.L.attn.hook_k              [batch, pos, n_kv_heads, d_head]
  V,                  // blocks.L.attn.hook_v              [batch, pos, n_kv_heads, d_head]
  RotQ,               // blocks.L.attn.hook_rot_q          [batch, pos, n_heads, d_head]
  RotK,               // blocks.L.attn.hook_rot_k          [batch, pos, n_kv_heads, d_head]
  AttnScores,         // blocks.L.attn.hook_attn_scores    [batch, n_heads, q_pos, k_pos]
  Pattern,            // blocks.L.attn.hook_pattern        [batch, n_heads, q_pos, k_pos]
  Z,                  // blocks.L.attn.hook_z              [batch, pos, n_heads, d_head]
  Result,             // blocks.L.attn.hook_result         [batch, pos, n_heads, d_model] (opt-in)
  AttnOut,            // blocks.L.hook_attn_out            [batch, pos, d_model]
  ResidMid,           // blocks.L.hook_resid_mid           [batch, pos, d_model] (sequential only)
  Ln2Scale,           // blocks.L.ln2.hook_scale           [batch, pos, 1]
  Ln2Normalized,      // blocks.L.ln2.hook_normalized      [batch, pos, d_model]
  MlpPre,             // blocks.L.mlp.hook_pre             [batch, pos, d_mlp] (gate for gated MLPs)
  MlpPreLinear,       // blocks.L.mlp.hook_pre_linear      [batch, pos, d_mlp] (gated MLPs only)
  MlpPost,            // blocks.L.mlp.hook_post            [batch, pos, d_mlp]
  MlpOut,             // blocks.L.hook_mlp_out             [batch, pos, d_model]
  ResidPost,          // blocks.L.hook_resid_post          [batch, pos, d_model]
  LnFinalScale,       // ln_final.hook_scale               [batch, pos, 1]
  LnFinalNormalized,  // ln_final.hook_normalized          [batch, pos, d_model]
  ImageFeatures,      // hook_image_features              [batch, image tokens, d_model] (VLMs)
  Count
};

/// What a hook sees and may change. Assigning `value` replaces the activation downstream
/// (patching, ablation, clamping, steering; keep the shape); `stop = true` ends the forward pass
/// after this hook.
struct HookCall {
  const std::string& name;
  int layer;
  HookKind kind;
  at::Tensor& value;
  bool stop = false;
};

using HookFn = std::function<void(HookCall&)>;
using NameFilter = std::function<bool(const std::string&)>;

/// A set of subscriptions, by exact name or by predicate, handed to a run.
class HookSet {
 public:
  HookSet& add(const std::string& name, HookFn fn);
  HookSet& add(NameFilter filter, HookFn fn);
  bool empty() const { return subs_.empty(); }

  struct Subscription {
    std::string name;  // exact name, or empty when `filter` is used
    NameFilter filter;
    HookFn fn;
  };
  const std::vector<Subscription>& subscriptions() const { return subs_; }

 private:
  std::vector<Subscription> subs_;
};

/// The hook points a model has, in forward order, with an O(1) index for the forward pass.
class HookPoints {
 public:
  explicit HookPoints(const ModelConfig& cfg, const std::string& prefix = "");
  static int index(HookKind kind, int layer) {
    return layer < 0 ? static_cast<int>(kind) : kPerModel + layer * kPerLayer + static_cast<int>(kind);
  }
  /// The TransformerLens name of a point (empty when this model lacks it).
  const std::string& name(int index) const { return names_[index]; }
  int table_size() const { return static_cast<int>(names_.size()); }
  /// Names of every point this model has, in forward order.
  const std::vector<std::string>& ordered() const { return ordered_; }

 private:
  static constexpr int kPerModel = static_cast<int>(HookKind::Count);
  static constexpr int kPerLayer = static_cast<int>(HookKind::Count);
  std::vector<std::string> names_;
  std::vector<std::string> ordered_;
};

/// Calls the subscribers of one point outside a model's own table (e.g. the image features of
/// a vision-language model); returns true when one of them asked to stop.
bool call_hooks(const HookSet& hooks, const std::string& name, int layer, HookKind kind,
                at::Tensor& value);

/// A filter accepting names that match an ECMAScript regular expression (whole-name search).
NameFilter names_matching(const std::string& regex);

}  // namespace mechscope
