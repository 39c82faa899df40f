#pragma once
/// Hook points (TransformerLens names) and the subscriptions a run carries. Hooks are explicit
/// calls in the forward pass; a point nobody subscribed to costs one table lookup.
#include <ATen/Tensor.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mechscope {

struct ModelConfig;

/// The kinds of hook point, in forward order. Global ones (embedding, final norm) have layer -1.
/// Every norm has hook_scale and hook_normalized (before its gain); hook_attn_out and
/// hook_mlp_out are what is added to the residual stream (after ln1_post / ln2_post, as in
/// TransformerLens).
enum class HookKind : int {
  Embed,              // hook_embed                       [batch, pos, d_model]
  PosEmbed,           // hook_pos_embed                   [batch, pos, d_model]
  ResidPre,           // blocks.L.hook_resid_pre           [batch, pos, d_model]
  Ln1Scale,           // blocks.L.ln1.hook_scale           [batch, pos, 1]
  Ln1Normalized,      // blocks.L.ln1.hook_normalized      [batch, pos, d_model] (before gain/bias)
  Q,                  // blocks.L.attn.hook_q              [batch, pos, n_heads, d_head]
  K,                  // blocks.L.attn.hook_k              [batch, pos, n_kv_heads, d_head]
  V,                  // blocks.L.attn.hook_v              [batch, pos, n_kv_heads, d_head]
  QNormScale,         // blocks.L.attn.q_norm.hook_scale   [batch, pos, n_heads, 1] (use_qk_norm)
  QNormNormalized,    // blocks.L.attn.q_norm.hook_normalized [batch, pos, n_heads, d_head]
  KNormScale,         // blocks.L.attn.k_norm.hook_scale   [batch, pos, n_kv_heads, 1]
  KNormNormalized,    // blocks.L.attn.k_norm.hook_normalized [batch, pos, n_kv_heads, d_head]
  RotQ,               // blocks.L.attn.hook_rot_q          [batch, pos, n_heads, d_head]
  RotK,               // blocks.L.attn.hook_rot_k          [batch, pos, n_kv_heads, d_head]
  AttnScores,         // blocks.L.attn.hook_attn_scores    [batch, n_heads, q_pos, k_pos]
  Pattern,            // blocks.L.attn.hook_pattern        [batch, n_heads, q_pos, k_pos]
  Z,                  // blocks.L.attn.hook_z              [batch, pos, n_heads, d_head]
  Result,             // blocks.L.attn.hook_result         [batch, pos, n_heads, d_model] (opt-in)
  Ln1PostScale,       // blocks.L.ln1_post.hook_scale      [batch, pos, 1] (sandwich norms)
  Ln1PostNormalized,  // blocks.L.ln1_post.hook_normalized [batch, pos, d_model]
  AttnOut,            // blocks.L.hook_attn_out            [batch, pos, d_model]
  ResidMid,           // blocks.L.hook_resid_mid           [batch, pos, d_model] (sequential only)
  Ln2Scale,           // blocks.L.ln2.hook_scale           [batch, pos, 1]
  Ln2Normalized,      // blocks.L.ln2.hook_normalized      [batch, pos, d_model]
  MlpPre,             // blocks.L.mlp.hook_pre             [batch, pos, d_mlp] (gate for gated MLPs)
  MlpPreLinear,       // blocks.L.mlp.hook_pre_linear      [batch, pos, d_mlp] (gated MLPs only)
  MlpPost,            // blocks.L.mlp.hook_post            [batch, pos, d_mlp]
  Ln2PostScale,       // blocks.L.ln2_post.hook_scale      [batch, pos, 1] (sandwich norms)
  Ln2PostNormalized,  // blocks.L.ln2_post.hook_normalized [batch, pos, d_model]
  MlpOut,             // blocks.L.hook_mlp_out             [batch, pos, d_model]
  ResidPost,          // blocks.L.hook_resid_post          [batch, pos, d_model]
  LnFinalScale,       // ln_final.hook_scale               [batch, pos, 1]
  LnFinalNormalized,  // ln_final.hook_normalized          [batch, pos, d_model]
  ImageFeatures,      // hook_image_features              [batch, image tokens, d_model] (VLMs)
  Count
};

/// What a hook sees and may change. Assigning `value` (or editing it in place) replaces the
/// activation downstream (patching, ablation, clamping, steering; keep the shape); `stop = true`
/// ends the forward pass after this hook. One exception to "keep the shape": a hook on the keys
/// (hook_k, or hook_rot_k for rotary models) and values (hook_v) may return P more positions in
/// front — a cached prefix that every query attends to (the patching sweep reuses the unpatched
/// run's earlier keys and values this way); keys and values must then have the same length.
struct HookCall {
  const std::string& name;
  int layer;
  HookKind kind;
  at::Tensor& value;
  bool stop = false;
};

using HookFn = std::function<void(HookCall&)>;
using NameFilter = std::function<bool(const std::string&)>;

/// A set of subscriptions, handed to a run: by kind and layer (what probes use: no names to
/// spell), by exact name (what users type) or by predicate.
class HookSet {
 public:
  static constexpr int kEveryLayer = -2;
  /// The point of `kind` in `layer` (-1 for global points, kEveryLayer for all layers) of the
  /// model whose hook names start with `prefix` ("" for the language model, "vision." for a
  /// vision tower).
  HookSet& add(HookKind kind, int layer, HookFn fn, const std::string& prefix = "");
  HookSet& add(const std::string& name, HookFn fn);
  HookSet& add(NameFilter filter, HookFn fn);
  bool empty() const { return subs_.empty(); }

  struct Subscription {
    std::string name;  // exact name, or empty when `filter` or `kind` is used
    NameFilter filter;
    HookFn fn;
    HookKind kind = HookKind::Count;  // Count: not a kind subscription
    int layer = kEveryLayer;
    std::string prefix;
    /// Whether this subscription wants the point `name` (= kind, layer of a model with `prefix`).
    bool matches(const std::string& point_name, HookKind point_kind, int point_layer,
                 const std::string& point_prefix) const;
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
  /// The name of the point of `kind` in `layer` (-1 for global points): the one way to address
  /// a hook point ("blocks.3.attn.hook_z"). Throws mechscope::Error naming the point when this
  /// model lacks it (e.g. hook_resid_mid of a parallel-attention model) or the layer is out of
  /// range.
  const std::string& name(HookKind kind, int layer) const;
  /// Whether this model has the point.
  bool has(HookKind kind, int layer) const;
  int table_size() const { return static_cast<int>(names_.size()); }
  /// The kind and layer of a table index.
  static std::pair<HookKind, int> locate(int index) {
    if (index < kPerModel) return {static_cast<HookKind>(index), -1};
    return {static_cast<HookKind>((index - kPerModel) % kPerLayer), (index - kPerModel) / kPerLayer};
  }
  const std::string& prefix() const { return prefix_; }
  /// Names of every point this model has, in forward order.
  const std::vector<std::string>& ordered() const { return ordered_; }

 private:
  static constexpr int kPerModel = static_cast<int>(HookKind::Count);
  static constexpr int kPerLayer = static_cast<int>(HookKind::Count);
  std::vector<std::string> names_;
  std::vector<std::string> ordered_;
  std::string prefix_;
  int n_layers_ = 0;
};

/// The name suffix of a kind ("attn.hook_z", "hook_resid_pre", "ln_final.hook_scale").
const char* hook_suffix(HookKind kind);

/// Calls the subscribers of one point outside a model's own table (e.g. the image features of
/// a vision-language model; kind subscriptions match with prefix ""); returns true when one of
/// them asked to stop.
bool call_hooks(const HookSet& hooks, const std::string& name, int layer, HookKind kind,
                at::Tensor& value);

/// A filter accepting names that match an ECMAScript regular expression (whole-name search).
NameFilter names_matching(const std::string& regex);

}  // namespace mechscope
