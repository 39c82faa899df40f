// mechscope-cli plugin: probe plugins (plugins/sdk). Every plugin found is a probe of the
// registry (`mechscope-cli run NAME` runs it like a built-in probe); `plugin NAME …` is kept as an
// alias and `plugin --list` shows what was found and what was skipped. Needs Qt Core
// (QPluginLoader): built, like `export`, only when Qt is found.
#include <QCoreApplication>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/cli_probes.h"
#include "app/cli/commands.h"
#include "core/util/error.h"
#include "plugins/sdk/plugin_manager.h"
#include "plugins/sdk/plugin_probe.h"

namespace mechscope::cli {
namespace {

/// The plugins of the default directories, loaded once per process (they are never unloaded).
PluginManager& plugins() {
  static int qt_argc = 1;  // QPluginLoader and applicationDirPath() want an application object
  static char program[] = "mechscope-cli";
  static char* qt_argv[] = {program, nullptr};
  if (QCoreApplication::instance() == nullptr) new QCoreApplication(qt_argc, qt_argv);
  static PluginManager* manager = [] {
    auto* m = new PluginManager();
    m->scanDefault();
    return m;
  }();
  return *manager;
}

/// Every plugin found (name, version, description) and every file skipped, with why.
void print_plugins(const PluginManager& found) {
  for (const LoadedPlugin& p : found.plugins())
    std::cout << p.info.name.toStdString() << " " << p.info.version.toStdString() << "  "
              << p.info.description.toStdString() << "\n    " << p.file.toStdString() << "\n";
  if (found.plugins().empty()) std::cout << "No plugins found.\n";
  for (const PluginProblem& problem : found.problems())
    std::cout << "skipped: " << problem.text().toStdString() << "\n";
}

}  // namespace

void add_plugin_probes(probes::ProbeRegistry& registry, bool verbose) {
  for (const std::string& problem : register_plugins(plugins(), registry))
    if (verbose) std::cerr << problem << "\n";
}

int cmd_plugin(const std::vector<std::string>& argv) {
  // The plugin's name is the one argument without an option name; it comes first.
  std::vector<std::string> rest = argv;
  std::string name;
  if (!rest.empty() && rest.front().rfind("-", 0) != 0) {
    name = rest.front();
    rest.erase(rest.begin());
  }
  for (const std::string& a : rest)
    if (a == "--list") {
      print_plugins(plugins());
      return 0;
    }
  if (name.empty()) {
    if (!rest.empty() && (rest.front() == "--help" || rest.front() == "-h")) {
      std::cout << "Usage: mechscope-cli plugin NAME [OPTIONS] --out SESSION.mscope | --list\n\n"
                   "Runs the probe plugin NAME (the same as `mechscope-cli run NAME`). Plugins "
                   "are looked for in this build's plugin directory, in plugins/ beside the "
                   "executable and in $MECHSCOPE_PLUGIN_PATH.\n";
      return 0;
    }
    throw Error("Missing the plugin name: mechscope-cli plugin NAME --out FILE.");
  }
  if (plugins().find(QString::fromStdString(name)) == nullptr) {
    std::string known;
    for (const LoadedPlugin& p : plugins().plugins())
      known += (known.empty() ? "" : ", ") + p.info.name.toStdString();
    throw Error(
        "No plugin named '" + name + "' was found" +
        (known.empty() ? std::string(" (none was; see --list).") : "; found: " + known + "."));
  }
  return run_probe_command(cli_registry(true), name, "plugin " + name, rest);
}

}  // namespace mechscope::cli
