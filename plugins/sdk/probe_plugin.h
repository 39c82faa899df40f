#pragma once
/// The plugin SDK: the one interface a probe plugin implements. A plugin is a Qt plugin (a shared
/// library loaded with QPluginLoader) whose root object implements mechscope::ProbePlugin; it
/// takes the loaded model and the user's inputs and returns a plain-data Result, which the
/// workbench then stores, draws and exports exactly like a built-in probe's. See README.md here.
#include <QObject>
#include <QString>
#include <QtPlugin>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/session/result.h"
#include "probes/probe.h"

namespace mechscope {

class Model;

/// The SDK version this build implements. A plugin states the version it was built against in
/// its metadata ("sdk_version"); the manager refuses any other version before loading it. Bump it
/// whenever ProbePlugin, PluginInputs, Result or Model change in a way a built plugin would notice
/// (plugins are handed a Model and return a Result, so their layouts are part of the interface).
/// Version 2: inputs are probes::ProbeInputs (answer ids, wrong answer, image), options resolved by
/// probes/options.h.
constexpr int kPluginSdkVersion = 2;

/// The Qt interface id of ProbePlugin (the same string as in Q_DECLARE_INTERFACE below).
constexpr const char* kProbePluginIid = "org.mechscope.ProbePlugin/1.0";

/// What the user gave the workbench to probe with (the same inputs built-in probes get).
using PluginInputs = probes::ProbeInputs;

/// A probe provided by a plugin. Implementations must be stateless between run() calls or
/// protect their state: the workbench may call run() from a background thread.
class ProbePlugin {
 public:
  virtual ~ProbePlugin() = default;

  /// Short unique name ("head_scores"); it becomes Result::probe.
  virtual QString name() const = 0;
  /// One or two sentences for people.
  virtual QString description() const = 0;
  /// The options run() accepts, JSON-schema-like:
  ///   {"type": "object", "properties": {"kind": {"type": "string",
  ///     "enum": ["a", "b"], "default": "a", "description": "..."}, ...}}
  /// Every property has a "default"; options are resolved against it (probes/options.h: unknown
  /// options, wrong types and values outside "enum"/"minimum"/"maximum" are refused) before run()
  /// sees them, and the workbench builds its options dialog from it.
  virtual nlohmann::json optionsSchema() const = 0;
  /// Runs the probe. `progress(fraction)` (fraction in [0, 1]) returns false when the user asked
  /// to cancel; the plugin should then stop and throw. Errors are reported by throwing a
  /// std::exception whose what() is a full sentence; the manager catches everything.
  virtual Result run(const Model& model, const PluginInputs& inputs, const nlohmann::json& options,
                     const std::function<bool(double)>& progress) = 0;
};

}  // namespace mechscope

// The interface id. Q_PLUGIN_METADATA(IID "...") in a plugin must name exactly this string
// (moc needs the literal, so it is spelled out here and in kProbePluginIid above).
Q_DECLARE_INTERFACE(mechscope::ProbePlugin, "org.mechscope.ProbePlugin/1.0")
