#pragma once
/// Activation patching of SAE features (activation_patching with target=sae_feature): the SAE is
/// spliced in with its error term (so the unpatched runs are the model's own), and one latent at
/// one position of the corrupted run takes its clean value.
#include <ATen/Tensor.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/sae/sae.h"
#include "core/session/result.h"
#include "probes/metric.h"
#include "probes/probe.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

/// The patching probes' option `sae` (the folder target=sae_feature reads), shown with Browse….
OptionSpec sae_target_option();

/// The SAE option `sae` names; throws mechscope::Error when it is empty (target=sae_feature needs
/// it) or the folder does not load.
sae::Sae sae_from_options(const Options& options);

/// [position (the prompt's tokens), latent (F0 …)]: the axes of a sae_feature `effect`.
std::vector<Axis> sae_feature_axes(const Model& model, const std::vector<int64_t>& tokens,
                                   int64_t d_sae);

/// {"target": "sae_feature", "sae": {folder, hook, architecture, d_sae}}, merged into a
/// patching Result's meta.
void add_sae_feature_meta(nlohmann::json& meta, const std::string& folder, const sae::Sae& sae);

struct SaeSweepResult {
  at::Tensor effect;     ///< [position, latent] metric of each patched run
  at::Tensor top_prob;   ///< [position, latent, k], undefined when it would be too large
  at::Tensor top_token;  ///< [position, latent, k] ids as float, likewise
  int64_t patched = 0;   ///< cells whose clean and corrupted values differ (the runs made)
};

/// Every (position, latent) whose clean and corrupted activations differ is one row of a batched
/// forward pass that starts at the SAE's layer from the corrupted residual stream; the others
/// equal the corrupted run exactly and are not run. Sets `metric`'s baselines. Top-k arrays are
/// kept when position × latent × k ≤ 8M values.
SaeSweepResult sae_feature_sweep(const Model& model, const std::vector<int64_t>& clean,
                                 const std::vector<int64_t>& corrupt, const sae::Sae& sae,
                                 Metric& metric, int64_t top_k, const Progress& progress);

/// Attribution patching of SAE features: (clean − corrupted latent) · ∂metric/∂latent on the
/// corrupted run, the SAE spliced in with its error term — one forward pass of [clean; corrupted]
/// and one backward pass. Sets `metric`'s baselines. Returns [position, latent].
at::Tensor sae_feature_attribution(const Model& model, const std::vector<int64_t>& clean,
                                   const std::vector<int64_t>& corrupt, const sae::Sae& sae,
                                   Metric& metric);

}  // namespace mechscope::probes
