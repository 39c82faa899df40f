#include "plugins/sdk/plugin_probe.h"

#include <exception>

#include "core/util/error.h"
#include "plugins/sdk/probe_plugin.h"
#include "probes/options.h"

namespace mechscope {

PluginProbe::PluginProbe(const LoadedPlugin& plugin) : plugin_(plugin) {
  info_.name = plugin.info.name.toStdString();
  info_.title = info_.name;
  info_.description = plugin.info.description.toStdString();
  // A plugin checks its own inputs (some, like token_heads on random sequences, need none).
  info_.inputs = {{probes::Input::Prompt, false, "the prompt"},
                  {probes::Input::Corrupt, false, "a corrupted prompt of the same length"},
                  {probes::Input::Answer, false, "the expected answer"}};
  try {
    info_.options = probes::options_from_schema(plugin.plugin->optionsSchema());
  } catch (const std::exception& e) {
    throw Error("Plugin '" + info_.name + "' declares an invalid options schema: " + e.what());
  }
}

Result PluginProbe::run(const Model& model, const probes::ProbeInputs& inputs,
                        const probes::Options& options, const probes::Progress& progress) const {
  bool cancel_requested = false;
  // Remember a cancel request: the plugin's own exception type cannot be matched across the
  // library boundary (its symbols are hidden), so this is how a cancel is told from a failure.
  const std::function<bool(double)> watched = [&](double fraction) {
    const bool go_on = !progress || progress(fraction);
    cancel_requested = cancel_requested || !go_on;
    return go_on;
  };
  Result result;
  try {
    result = plugin_.plugin->run(model, inputs, options.json(), watched);
  } catch (const std::exception& e) {
    if (cancel_requested) throw Cancelled();
    throw Error("Plugin '" + info_.name + "' failed: " + e.what());
  } catch (...) {
    if (cancel_requested) throw Cancelled();
    throw Error("Plugin '" + info_.name +
                "' failed with an exception that is not a std::exception.");
  }
  if (!result.meta.is_object()) result.meta = nlohmann::json::object();
  result.meta["plugin"] = {{"name", info_.name},
                           {"version", plugin_.info.version.toStdString()},
                           {"sdk_version", plugin_.info.sdk_version},
                           {"file", plugin_.file.toStdString()}};
  return result;
}

std::vector<std::string> register_plugins(const PluginManager& plugins,
                                          probes::ProbeRegistry& registry) {
  std::vector<std::string> problems;
  for (const LoadedPlugin& p : plugins.plugins()) {
    const std::string name = p.info.name.toStdString();
    if (const auto* known = dynamic_cast<const PluginProbe*>(registry.find(name)))
      if (known->plugin().file == p.file) continue;  // registered by an earlier scan
    try {
      if (registry.find(name))
        throw Error("Plugin '" + name + "' (" + p.file.toStdString() +
                    ") is skipped: a probe of that name exists already.");
      registry.add(std::make_shared<PluginProbe>(p));
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
  }
  return problems;
}

}  // namespace mechscope
