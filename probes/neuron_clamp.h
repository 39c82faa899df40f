#pragma once
/// Clamping one MLP neuron (blocks.L.mlp.hook_post[..., neuron]) as a hook: for the neuron_clamp
/// probe and for generating with a neuron held (the workbench's Generate panel).
#include <cstdint>
#include <string>

#include "core/model/hooks.h"

namespace mechscope::probes {

/// Adds to `hooks` the clamp of `neuron` in `layer` to `value` at `positions`: "all", "last" or a
/// list like "0,3" (positions past the sequence are ignored). Throws mechscope::Error for a
/// malformed list.
void add_neuron_clamp(HookSet& hooks, int layer, int64_t neuron, double value,
                      const std::string& positions = "all");

}  // namespace mechscope::probes
