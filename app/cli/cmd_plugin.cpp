// mechscope-cli plugin: runs a probe plugin (plugins/sdk) on a prompt and stores its Result in a
// `.mscope` session, like the built-in probes' commands; `--list` shows what plugins were found.
// Needs Qt Core (QPluginLoader): built, like `export`, only when Qt is found.
#include <QCoreApplication>
#include <filesystem>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/cli_session.h"
#include "app/cli/commands.h"
#include "core/session/session.h"
#include "core/util/error.h"
#include "plugins/sdk/plugin_manager.h"
#include "plugins/sdk/plugin_run.h"
#include "probes/result_meta.h"

namespace mechscope::cli {
namespace {

/// Every plugin found (name, version, description) and every file skipped, with why.
void print_plugins(const PluginManager& plugins) {
  for (const LoadedPlugin& p : plugins.plugins())
    std::cout << p.info.name.toStdString() << " " << p.info.version.toStdString() << "  "
              << p.info.description.toStdString() << "\n    " << p.file.toStdString() << "\n";
  if (plugins.plugins().empty()) std::cout << "No plugins found.\n";
  for (const PluginProblem& problem : plugins.problems())
    std::cout << "skipped: " << problem.text().toStdString() << "\n";
}

}  // namespace

int cmd_plugin(const std::vector<std::string>& argv) {
  auto specs = model_options();
  specs.push_back({"prompt", "TEXT", "the prompt"});
  specs.push_back({"tokens", "ID,ID,…", "the prompt as token ids (instead of --prompt)"});
  specs.push_back({"options", "JSON", "the plugin's options as a JSON object (default: {})"});
  specs.push_back({"out", "SESSION.mscope", "the session file to write"});
  specs.push_back({"append", "", "add the result to the session in --out (created when missing)"});
  specs.push_back({"list", "", "list the plugins found (and files skipped) and exit"});
  // The plugin's name is the one argument without an option name; it comes first.
  std::vector<std::string> rest = argv;
  std::string name;
  if (!rest.empty() && rest.front().rfind("-", 0) != 0) {
    name = rest.front();
    rest.erase(rest.begin());
  }
  Args args(rest, specs);
  if (args.help()) {
    std::cout << usage("plugin NAME",
                       "Runs the probe plugin NAME on a prompt and stores its Result in a session "
                       "file. Plugins are looked for in this build's plugin directory, in "
                       "plugins/ beside the executable and in $MECHSCOPE_PLUGIN_PATH.",
                       specs);
    return 0;
  }

  int qt_argc = 1;  // QPluginLoader and applicationDirPath() want an application object
  char program[] = "mechscope-cli";
  char* qt_argv[] = {program, nullptr};
  QCoreApplication app(qt_argc, qt_argv);
  PluginManager plugins;
  plugins.scanDefault();
  if (args.has("list")) {
    print_plugins(plugins);
    return 0;
  }
  if (name.empty()) throw Error("Missing the plugin name: mechscope-cli plugin NAME --out FILE.");
  if (!args.has("out")) throw Error("Missing --out SESSION.mscope.");
  const LoadedPlugin* plugin = plugins.find(QString::fromStdString(name));
  if (!plugin) {
    std::string known;
    for (const LoadedPlugin& p : plugins.plugins())
      known += (known.empty() ? "" : ", ") + p.info.name.toStdString();
    throw Error(
        "No plugin named '" + name + "' was found" +
        (known.empty() ? std::string(" (none was; see --list).") : "; found: " + known + "."));
  }
  nlohmann::json options = nlohmann::json::object();
  if (auto text = args.optional("options")) {
    options = nlohmann::json::parse(*text, nullptr, false);
    if (options.is_discarded()) throw Error("--options is not valid JSON: " + *text);
  }

  ProbeSessionFile file(args);  // a bad session file fails before the model runs
  auto model = load_model_from_args(args);
  file.set_model(*model, args);

  PluginInputs inputs;
  inputs.tokens = prompt_tokens(*model, args);
  inputs.prompt = args.get("prompt");
  if (inputs.prompt.empty() && model->tokenizer() != nullptr)
    inputs.prompt = model->tokenizer()->decode(inputs.tokens, true);
  install_interrupt_handler();
  PluginRunOutcome outcome =
      run_plugin(*plugin, *model, inputs, options, [](double) { return !interrupted(); });
  if (!outcome.ok()) throw Error(outcome.cancelled ? "Interrupted." : outcome.error);

  const std::string id = file.add(std::move(*outcome.result), inputs.prompt);
  std::cout << (file.appending() ? "Added " : "Wrote ") << id << " (plugin " << name << ") to "
            << file.path().string() << ".\n";
  return 0;
}

}  // namespace mechscope::cli
