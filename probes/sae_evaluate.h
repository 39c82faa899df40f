#pragma once
/// How well an SAE stands in for its hook point, measured on prompts (SAE training reports it on
/// held-out prompts; probes/sae_train.h).
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/sae/sae.h"
#include "probes/sae_activations.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct SaeMetrics {
  int64_t prompts = 0;
  int64_t tokens = 0;           ///< positions measured (real tokens, BOS excluded unless asked)
  double mse = 0;               ///< mean over positions and dimensions of (x − x̂)²
  /// 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² over the positions (x̄ their mean activation).
  double explained_variance = 0;
  double l0 = 0;                ///< mean number of active latents per position
  double dead_fraction = 0;     ///< latents active at none of the positions
  int64_t scored_tokens = 0;    ///< tokens the next-token loss is measured on
  /// Next-token cross-entropy (nats, mean over the scored tokens: a task example's answer, or
  /// every token after the first of a plain prompt) of the model as it is, with the SAE's
  /// reconstruction spliced in at the hook (sae_hooks.h: every position but a leading BOS, which
  /// the SAE was not trained on, unless include_bos), and with the hook's activation zeroed at
  /// the same positions.
  double ce_loss_clean = 0;
  double ce_loss_spliced = 0;
  double ce_loss_zero_ablation = 0;
  /// (zero − spliced) / (zero − clean): 1 when the SAE loses nothing (SAELens' ce_loss_score).
  double ce_loss_score = 0;

  nlohmann::json to_json() const;
};

/// Runs `texts` (prompt_batch at a time) three times — clean (reading the hook's activations),
/// SAE spliced, hook zeroed — and measures `sae` on the positions sae_positions() keeps (of a
/// task example: those of its prompt).
/// `progress(fraction)` returning false throws mechscope::Cancelled. Throws mechscope::Error when
/// the SAE does not fit the model (check_fits) or the prompts hold no position to measure.
SaeMetrics evaluate_sae(const Model& model, std::shared_ptr<const sae::Sae> sae,
                        const std::vector<SaeEvalText>& texts, bool include_bos,
                        int64_t prompt_batch = 8,
                        const std::function<bool(double)>& progress = nullptr);

}  // namespace mechscope::probes
