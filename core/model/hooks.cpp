#include "core/model/hooks.h"

#include <regex>

#include "core/model/config.h"
#include "core/util/error.h"

namespace mechscope {

HookSet& HookSet::add(HookKind kind, int layer, HookFn fn, const std::string& prefix) {
  Subscription s;
  s.kind = kind;
  s.layer = layer;
  s.prefix = prefix;
  s.fn = std::move(fn);
  subs_.push_back(std::move(s));
  return *this;
}

HookSet& HookSet::add(const std::string& name, HookFn fn) {
  Subscription s;
  s.name = name;
  s.fn = std::move(fn);
  subs_.push_back(std::move(s));
  return *this;
}

HookSet& HookSet::add(NameFilter filter, HookFn fn) {
  Subscription s;
  s.filter = std::move(filter);
  s.fn = std::move(fn);
  subs_.push_back(std::move(s));
  return *this;
}

bool HookSet::Subscription::matches(const std::string& point_name, HookKind point_kind,
                                    int point_layer, const std::string& point_prefix) const {
  if (kind != HookKind::Count)
    return kind == point_kind && (layer == kEveryLayer || layer == point_layer) &&
           prefix == point_prefix;
  return filter ? filter(point_name) : name == point_name;
}

const char* hook_suffix(HookKind k) {
  switch (k) {
    case HookKind::Embed: return "hook_embed";
    case HookKind::PosEmbed: return "hook_pos_embed";
    case HookKind::ResidPre: return "hook_resid_pre";
    case HookKind::Ln1Scale: return "ln1.hook_scale";
    case HookKind::Ln1Normalized: return "ln1.hook_normalized";
    case HookKind::Q: return "attn.hook_q";
    case HookKind::K: return "attn.hook_k";
    case HookKind::V: return "attn.hook_v";
    case HookKind::QNormScale: return "attn.q_norm.hook_scale";
    case HookKind::QNormNormalized: return "attn.q_norm.hook_normalized";
    case HookKind::KNormScale: return "attn.k_norm.hook_scale";
    case HookKind::KNormNormalized: return "attn.k_norm.hook_normalized";
    case HookKind::RotQ: return "attn.hook_rot_q";
    case HookKind::RotK: return "attn.hook_rot_k";
    case HookKind::AttnScores: return "attn.hook_attn_scores";
    case HookKind::Pattern: return "attn.hook_pattern";
    case HookKind::Z: return "attn.hook_z";
    case HookKind::Result: return "attn.hook_result";
    case HookKind::Ln1PostScale: return "ln1_post.hook_scale";
    case HookKind::Ln1PostNormalized: return "ln1_post.hook_normalized";
    case HookKind::AttnOut: return "hook_attn_out";
    case HookKind::ResidMid: return "hook_resid_mid";
    case HookKind::Ln2Scale: return "ln2.hook_scale";
    case HookKind::Ln2Normalized: return "ln2.hook_normalized";
    case HookKind::MlpPre: return "mlp.hook_pre";
    case HookKind::MlpPreLinear: return "mlp.hook_pre_linear";
    case HookKind::MlpPost: return "mlp.hook_post";
    case HookKind::Ln2PostScale: return "ln2_post.hook_scale";
    case HookKind::Ln2PostNormalized: return "ln2_post.hook_normalized";
    case HookKind::MlpOut: return "hook_mlp_out";
    case HookKind::ResidPost: return "hook_resid_post";
    case HookKind::LnFinalScale: return "ln_final.hook_scale";
    case HookKind::LnFinalNormalized: return "ln_final.hook_normalized";
    case HookKind::ImageFeatures: return "hook_image_features";
    case HookKind::Count: break;
  }
  return "";
}

HookPoints::HookPoints(const ModelConfig& cfg, const std::string& prefix)
    : prefix_(prefix), n_layers_(cfg.n_layers) {
  names_.assign(kPerModel + cfg.n_layers * kPerLayer, std::string());
  auto put = [&](HookKind k, int layer) {
    std::string n = prefix + (layer < 0 ? std::string(hook_suffix(k))
                                        : "blocks." + std::to_string(layer) + "." + hook_suffix(k));
    names_[index(k, layer)] = n;
    ordered_.push_back(n);
  };
  put(HookKind::Embed, -1);
  if (cfg.positional == Positional::Learned) put(HookKind::PosEmbed, -1);
  for (int l = 0; l < cfg.n_layers; ++l) {
    for (int k = static_cast<int>(HookKind::ResidPre); k <= static_cast<int>(HookKind::ResidPost);
         ++k) {
      auto kind = static_cast<HookKind>(k);
      if ((kind == HookKind::RotQ || kind == HookKind::RotK) &&
          cfg.positional != Positional::Rotary)
        continue;
      if (kind == HookKind::ResidMid && cfg.parallel_attn_mlp) continue;
      if (kind == HookKind::MlpPreLinear && !cfg.gated_mlp) continue;
      if ((kind == HookKind::QNormScale || kind == HookKind::QNormNormalized ||
           kind == HookKind::KNormScale || kind == HookKind::KNormNormalized) &&
          !cfg.use_qk_norm)
        continue;
      if ((kind == HookKind::Ln1PostScale || kind == HookKind::Ln1PostNormalized ||
           kind == HookKind::Ln2PostScale || kind == HookKind::Ln2PostNormalized) &&
          !cfg.use_normalization_before_and_after)
        continue;
      put(kind, l);
    }
  }
  if (cfg.is_encoder()) return;
  put(HookKind::LnFinalScale, -1);
  put(HookKind::LnFinalNormalized, -1);
}

bool HookPoints::has(HookKind kind, int layer) const {
  if (layer >= n_layers_ || layer < -1 || kind == HookKind::Count) return false;
  return !names_[index(kind, layer)].empty();
}

const std::string& HookPoints::name(HookKind kind, int layer) const {
  if (!has(kind, layer)) {
    const std::string what =
        prefix_ + (layer < 0 ? std::string(hook_suffix(kind))
                             : "blocks." + std::to_string(layer) + "." + hook_suffix(kind));
    throw Error("This model has no hook point " + what +
                (layer >= n_layers_ ? " (it has " + std::to_string(n_layers_) + " layers)." : "."));
  }
  return names_[index(kind, layer)];
}

bool call_hooks(const HookSet& hooks, const std::string& name, int layer, HookKind kind,
                at::Tensor& value) {
  for (const auto& s : hooks.subscriptions()) {
    if (!s.matches(name, kind, layer, "")) continue;
    HookCall call{name, layer, kind, value};
    s.fn(call);
    if (call.stop) return true;
  }
  return false;
}

NameFilter names_matching(const std::string& regex) {
  std::shared_ptr<std::regex> re;
  try {
    re = std::make_shared<std::regex>(regex, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    throw Error("Invalid hook name pattern '" + regex + "': " + e.what() + ".");
  }
  return [re](const std::string& name) { return std::regex_search(name, *re); };
}

}  // namespace mechscope
