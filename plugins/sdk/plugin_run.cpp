#include "plugins/sdk/plugin_run.h"

#include <exception>

#include "core/util/error.h"
#include "plugins/sdk/plugin_probe.h"
#include "probes/run_probe.h"

namespace mechscope {

PluginRunOutcome run_plugin(const LoadedPlugin& plugin, const Model& model,
                            const PluginInputs& inputs, const nlohmann::json& options,
                            const std::function<bool(double)>& progress) {
  PluginRunOutcome outcome;
  const std::string prefix = "Plugin '" + plugin.info.name.toStdString() + "' failed: ";
  try {
    outcome.result = probes::run_probe(PluginProbe(plugin), model, inputs, options, progress);
  } catch (const Cancelled&) {
    outcome.error = prefix + "Cancelled.";
    outcome.cancelled = true;
  } catch (const std::exception& e) {
    const std::string what = e.what();
    outcome.error = what.rfind("Plugin '", 0) == 0 ? what : prefix + what;
  }
  return outcome;
}

}  // namespace mechscope
