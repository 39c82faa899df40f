#pragma once
// The probe registry as the CLI sees it: the built-in probes plus, in Qt builds, every probe
// plugin found (cmd_plugin.cpp loads them).
#include "probes/registry.h"

namespace mechscope::cli {

/// Built-in probes and plugins. Plugin problems are printed to stderr only when `verbose`.
probes::ProbeRegistry cli_registry(bool verbose = false);

/// Runs PROBE as `mechscope-cli <command> …` does (command = "run PROBE", or an alias such as
/// "attention"); argv holds the options after the probe name.
int run_probe_command(const probes::ProbeRegistry& registry, const std::string& probe,
                      const std::string& command, const std::vector<std::string>& argv);

#ifdef MECHSCOPE_CLI_HAS_QT
/// Adds the loaded plugins to `registry` (cmd_plugin.cpp; needs Qt).
void add_plugin_probes(probes::ProbeRegistry& registry, bool verbose);
#endif

}  // namespace mechscope::cli
