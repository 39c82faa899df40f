#pragma once
/// A loaded plugin as a probe of the registry (probes/registry.h): the same menus, options dialog,
/// CLI commands, option checks and Result stamping as a built-in probe, plus meta["plugin"].
#include <memory>

#include "plugins/sdk/plugin_manager.h"
#include "probes/probe.h"
#include "probes/registry.h"

namespace mechscope {

class PluginProbe : public probes::Probe {
 public:
  /// Reads the plugin's schema; throws mechscope::Error when it is not a valid options schema.
  explicit PluginProbe(const LoadedPlugin& plugin);
  const probes::ProbeInfo& info() const override { return info_; }
  /// Runs the plugin. Anything it throws becomes mechscope::Error("Plugin 'NAME' failed: …"), or
  /// Cancelled when `progress` had asked to stop.
  Result run(const Model& model, const probes::ProbeInputs& inputs, const probes::Options& options,
             const probes::Progress& progress) const override;
  const LoadedPlugin& plugin() const { return plugin_; }

 private:
  LoadedPlugin plugin_;
  probes::ProbeInfo info_;
};

/// Adds every plugin of `plugins` not yet in `registry`. A plugin whose name is taken (by a
/// built-in probe or an earlier plugin) or whose schema is invalid is skipped and described in
/// the returned list of sentences.
std::vector<std::string> register_plugins(const PluginManager& plugins,
                                          probes::ProbeRegistry& registry);

}  // namespace mechscope
