#pragma once
/// Running a loaded plugin: options checked against its schema, every exception caught, and the
/// Result stamped with the same metadata built-in probes carry, so sessions and exports treat
/// plugin Results like any other.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/session/result.h"
#include "plugins/sdk/plugin_manager.h"
#include "plugins/sdk/probe_plugin.h"

namespace mechscope {

/// What a plugin run produced: a Result, or an error sentence.
struct PluginRunOutcome {
  std::optional<Result> result;  ///< Set on success.
  std::string error;             ///< Set on failure: names the plugin and the problem.
  bool cancelled = false;        ///< The run failed after `progress` asked to cancel.
  bool ok() const { return result.has_value(); }
};

/// Runs `plugin` on `model` through probes::run_probe (as a PluginProbe). `options` (an object,
/// or null for the defaults) is completed from the plugin's optionsSchema() and checked first. `progress(fraction)` is passed on to the
/// plugin; returning false asks it to stop. Never throws: exceptions of any type from the plugin,
/// bad options and inconsistent Results become `error`. On success the Result has probe = the
/// plugin's name, a non-empty id (the plugin's name; sessions give it a fresh id with
/// Session::next_id when they add it), a title, and meta = probes::result_meta (probe, resolved
/// options, model identity, inputs, version, time) plus "plugin": {"name", "version",
/// "sdk_version", "file"}, merged over whatever meta the plugin set itself.
PluginRunOutcome run_plugin(const LoadedPlugin& plugin, const Model& model,
                            const PluginInputs& inputs, const nlohmann::json& options = nullptr,
                            const std::function<bool(double)>& progress = {});

}  // namespace mechscope
