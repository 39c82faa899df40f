#pragma once
/// The built-in probes, one file each; registry.cpp lists them in one table.
#include <memory>

#include "probes/probe.h"

namespace mechscope::probes {

std::shared_ptr<const Probe> attention_probe();
std::shared_ptr<const Probe> logit_lens_probe();
std::shared_ptr<const Probe> logit_attribution_probe();
std::shared_ptr<const Probe> activation_patching_probe();
std::shared_ptr<const Probe> attribution_patching_probe();
std::shared_ptr<const Probe> path_patching_probe();
std::shared_ptr<const Probe> neuron_decoding_probe();
std::shared_ptr<const Probe> neuron_clamp_probe();
std::shared_ptr<const Probe> neuron_agreement_probe();
std::shared_ptr<const Probe> head_svd_probe();
std::shared_ptr<const Probe> composition_probe();
std::shared_ptr<const Probe> channels_probe();
std::shared_ptr<const Probe> head_detector_probe();
std::shared_ptr<const Probe> retrieval_heads_probe();
std::shared_ptr<const Probe> head_masking_probe();
std::shared_ptr<const Probe> attention_knockout_probe();
std::shared_ptr<const Probe> information_flow_probe();
std::shared_ptr<const Probe> sae_circuit_probe();
std::shared_ptr<const Probe> sae_features_probe();

}  // namespace mechscope::probes
