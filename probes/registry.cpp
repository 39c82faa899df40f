// The one table of built-in probes.
#include "probes/registry.h"

#include "core/util/error.h"
#include "probes/builtin.h"

namespace mechscope::probes {

const ProbeRegistry& ProbeRegistry::builtin() {
  static const ProbeRegistry registry = [] {
    ProbeRegistry r;
    for (auto probe : {
           attention_probe(),
           logit_lens_probe(),
           logit_attribution_probe(),
           activation_patching_probe(),
           attribution_patching_probe(),
           path_patching_probe(),
           neuron_decoding_probe(),
           neuron_clamp_probe(),
           neuron_agreement_probe(),
           head_svd_probe(),
           composition_probe(),
           channels_probe(),
           head_detector_probe(),
           retrieval_heads_probe(),
           head_masking_probe(),
           attention_knockout_probe(),
           information_flow_probe(),
           sae_circuit_probe(),
           sae_features_probe(),
         })
      r.add(std::move(probe));
    return r;
  }();
  return registry;
}

void ProbeRegistry::add(std::shared_ptr<const Probe> probe) {
  if (!probe) throw Error("Cannot register an empty probe.");
  if (find(probe->name()))
    throw Error("A probe named '" + probe->name() + "' is already registered.");
  probes_.push_back(std::move(probe));
}

const Probe* ProbeRegistry::find(const std::string& name) const {
  for (const auto& p : probes_)
    if (p->name() == name) return p.get();
  return nullptr;
}

std::shared_ptr<const Probe> ProbeRegistry::shared(const std::string& name) const {
  for (const auto& p : probes_)
    if (p->name() == name) return p;
  return nullptr;
}

const Probe& ProbeRegistry::get(const std::string& name) const {
  if (const Probe* p = find(name)) return *p;
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("No probe named '" + name + "'; known probes: " + known + ".");
}

std::vector<std::string> ProbeRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& p : probes_) out.push_back(p->name());
  return out;
}

}  // namespace mechscope::probes
