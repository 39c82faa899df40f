#pragma once
/// Splicing an SAE into a forward pass, and steering with its decoder directions.
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/model/hooks.h"
#include "core/sae/sae.h"

namespace mechscope {
class Model;
}

namespace mechscope::sae {

struct SpliceOptions {
  /// Replace the activation by the reconstruction (the default). Without it the activation is
  /// kept and only steering (and `edit`) apply.
  bool replace = true;
  /// Add the error term x − x̂ back, so the forward pass is unchanged unless `edit` or steering
  /// change something (features become patchable without the reconstruction error).
  bool error_term = false;
  /// (feature, scale): scale · W_dec[feature] added to the activation at every position.
  std::vector<std::pair<int64_t, double>> steer;
};

/// May change the latent activations [batch, pos, d_sae] of one run before they are decoded
/// (patching features). Called with the hook's call so it can see the layer and positions.
using FeatureEdit = std::function<void(at::Tensor& acts)>;

/// A hook function for the SAE's hook point: out = x̂(edited f) [+ (x − x̂(f))] + Σ steer, or
/// x + (x̂(edited f) − x̂(f)) + Σ steer when !replace.
HookFn splice_hook(std::shared_ptr<const Sae> sae, SpliceOptions options, FeatureEdit edit = {});

/// What a splice does, as JSON: {"sae": source, "hook", "architecture", "d_sae", "replace",
/// "error_term", "steer": [[feature, scale], …]}.
nlohmann::json splice_description(const Sae& sae, const std::string& source,
                                  const SpliceOptions& options);

/// Subscribes splice_hook at the SAE's hook (by name) to `hooks`.
void add_splice(HookSet& hooks, std::shared_ptr<const Sae> sae, SpliceOptions options,
                FeatureEdit edit = {});

/// Parses "FEATURE=SCALE" (e.g. "123=4.5"); throws mechscope::Error naming the text.
std::pair<int64_t, double> parse_steer(const std::string& text);

/// Splices `sae` into every forward pass of `model` (Model::set_standing_hooks, replacing any
/// earlier splice) after checking it fits (check_fits) and that every steered feature exists;
/// `source` names the SAE (its folder) in the description. A null `sae` removes the splice.
void splice_into(Model& model, std::shared_ptr<const Sae> sae, const SpliceOptions& options,
                 const std::string& source);

}  // namespace mechscope::sae
