// The CLI's probe registry. Compiled with MECHSCOPE_CLI_HAS_QT when Qt is found, so only this
// file (not the LibTorch-heavy commands) differs between Qt and Qt-free builds.
#include "app/cli/cli_probes.h"

namespace mechscope::cli {

probes::ProbeRegistry cli_registry(bool verbose) {
  probes::ProbeRegistry registry = probes::ProbeRegistry::builtin();
#ifdef MECHSCOPE_CLI_HAS_QT
  add_plugin_probes(registry, verbose);
#else
  (void)verbose;
#endif
  return registry;
}

}  // namespace mechscope::cli
