// Splicing: the hook point's activation goes through the SAE (hook_z and other per-head points
// are flattened to [..., n_heads · d_head], as SAELens' hook_z SAEs read them).
#include "core/sae/sae_hooks.h"

#include <ATen/ATen.h>

#include "core/model/model.h"
#include "core/util/error.h"

namespace mechscope::sae {

HookFn splice_hook(std::shared_ptr<const Sae> sae, SpliceOptions options, FeatureEdit edit) {
  if (!sae) throw Error("Cannot splice an empty SAE.");
  at::Tensor steer;  // [d_in], the sum of the steering directions
  for (const auto& [feature, scale] : options.steer) {
    const at::Tensor d = sae->direction(feature) * scale;
    steer = steer.defined() ? steer + d : d;
  }
  return [sae, options, edit, steer](HookCall& call) {
    const auto shape = call.value.sizes().vec();
    const at::Tensor x = sae_input(*sae, call.value);
    at::Tensor out = x;
    if (edit || (options.replace && !options.error_term)) {
      const at::Tensor xs = x.to(sae->W_enc.scalar_type());
      at::Tensor acts = sae->encode(xs);
      at::Tensor recon;
      if (edit) {
        const at::Tensor original = acts.clone();
        edit(acts);
        recon = sae->decode(acts, xs);
        if (options.error_term || !options.replace)
          out = (xs + (recon - sae->decode(original, xs))).to(x.scalar_type());
        else
          out = recon.to(x.scalar_type());
      } else if (!options.error_term) {
        out = sae->decode(acts, xs).to(x.scalar_type());
      }  // else x̂ + (x − x̂) = x: the activation is kept as it is
    }
    if (steer.defined()) out = out + steer.to(out.scalar_type());
    call.value = out.reshape(shape);
  };
}

void add_splice(HookSet& hooks, std::shared_ptr<const Sae> sae, SpliceOptions options,
                FeatureEdit edit) {
  const std::string name = sae->cfg.hook_name;
  hooks.add(name, splice_hook(std::move(sae), std::move(options), std::move(edit)));
}

nlohmann::json splice_description(const Sae& sae, const std::string& source,
                                  const SpliceOptions& options) {
  nlohmann::json steer = nlohmann::json::array();
  for (const auto& [feature, scale] : options.steer) steer.push_back({feature, scale});
  return {{"sae", source},
          {"hook", sae.cfg.hook_name},
          {"architecture", architecture_name(sae.cfg.architecture)},
          {"d_sae", sae.cfg.d_sae},
          {"replace", options.replace},
          {"error_term", options.error_term},
          {"steer", steer}};
}

void splice_into(Model& model, std::shared_ptr<const Sae> sae, const SpliceOptions& options,
                 const std::string& source) {
  if (!sae) {
    model.set_standing_hooks(nullptr);
    return;
  }
  check_fits(*sae, model);
  for (const auto& s : options.steer) sae->direction(s.first);  // throws for a missing feature
  auto hooks = std::make_shared<HookSet>();
  add_splice(*hooks, sae, options);
  model.set_standing_hooks(hooks, splice_description(*sae, source, options).dump());
}

std::pair<int64_t, double> parse_steer(const std::string& text) {
  const auto eq = text.find('=');
  try {
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("no =");
    size_t used = 0;
    const long long feature = std::stoll(text.substr(0, eq), &used);
    if (used != eq || feature < 0) throw std::invalid_argument("feature");
    const std::string s = text.substr(eq + 1);
    const double scale = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument("scale");
    return {feature, scale};
  } catch (const std::exception&) {
    throw Error("--steer takes FEATURE=SCALE (a latent index and a number, e.g. 123=4.5), got '" +
                text + "'.");
  }
}

}  // namespace mechscope::sae
