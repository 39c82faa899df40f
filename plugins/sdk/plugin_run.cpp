#include "plugins/sdk/plugin_run.h"

#include <exception>

#include "plugins/sdk/plugin_options.h"
#include "probes/result_meta.h"

namespace mechscope {

namespace {

nlohmann::json inputs_meta(const PluginInputs& inputs) {
  nlohmann::json j = {{"prompt", inputs.prompt}, {"tokens", inputs.tokens}};
  if (inputs.corrupt_tokens) j["corrupt_tokens"] = *inputs.corrupt_tokens;
  if (inputs.answer) j["answer"] = *inputs.answer;
  return j;
}

/// Fills what built-in probes fill (probes/result_meta.h), so the Result is indistinguishable in
/// sessions and exports, plus which plugin made it. Keys the plugin set itself are kept unless
/// they collide with these.
void stamp(Result& result, const LoadedPlugin& plugin, const Model& model,
           const PluginInputs& inputs, const nlohmann::json& options) {
  const std::string name = plugin.info.name.toStdString();
  result.probe = name;
  if (result.id.empty()) result.id = name;
  if (result.title.empty()) result.title = probes::result_title(name, inputs.prompt);
  if (!result.meta.is_object()) result.meta = nlohmann::json::object();
  result.meta.update(probes::result_meta(model, name, options, inputs_meta(inputs)));
  result.meta["plugin"] = {{"name", name},
                           {"version", plugin.info.version.toStdString()},
                           {"sdk_version", plugin.info.sdk_version},
                           {"file", plugin.file.toStdString()}};
}

}  // namespace

PluginRunOutcome run_plugin(const LoadedPlugin& plugin, const Model& model,
                            const PluginInputs& inputs, const nlohmann::json& options,
                            const std::function<bool(double)>& progress) {
  PluginRunOutcome outcome;
  const std::string name = plugin.info.name.toStdString();
  bool cancel_requested = false;
  // Remember a cancel request: the plugin's own exception type cannot be matched across the
  // library boundary (its symbols are hidden), so this is how a cancel is told from a failure.
  const std::function<bool(double)> watched = [&](double fraction) {
    const bool go_on = !progress || progress(fraction);
    cancel_requested = cancel_requested || !go_on;
    return go_on;
  };
  try {
    const nlohmann::json resolved = resolve_options(plugin.plugin->optionsSchema(), options);
    Result result = plugin.plugin->run(model, inputs, resolved, watched);
    stamp(result, plugin, model, inputs, resolved);
    result.validate();
    outcome.result = std::move(result);
  } catch (const std::exception& e) {
    outcome.error = "Plugin '" + name + "' failed: " + e.what();
  } catch (...) {
    outcome.error = "Plugin '" + name + "' failed with an exception that is not a std::exception.";
  }
  outcome.cancelled = !outcome.ok() && cancel_requested;
  return outcome;
}

}  // namespace mechscope
