// mechscope-cli: the command-line face of mechscope.
#include <ATen/Parallel.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <thread>

#include "app/cli/commands.h"
#include "core/util/error.h"
#include "core/util/threads.h"

namespace {

const char* kUsage =
    "Usage: mechscope-cli COMMAND [OPTIONS]\n\n"
    "Commands:\n"
    "  info       family, configuration, parameter count, hook points and weights of a model\n"
    "  generate   generate a continuation of a prompt (greedy or sampled)\n"
    "  cache      write logits and activations of a prompt to HDF5\n"
    "  train      train a model on the task suite from a recipe\n"
    "  evaluate   per-task accuracy of a model on the task suite\n"
    "  card       measure a trained model and write its MODEL_CARD.md\n"
    "  probes     list every probe (built-in and plugins): inputs, options, arrays (--json)\n"
    "  run        run a probe (run PROBE --help) and add its Result to a .mscope session\n"
    "  attention  = run attention: every head's attention pattern on a prompt\n"
    "  sae-train  train a sparse autoencoder on a model's activations at a hook point\n"
#ifdef MECHSCOPE_CLI_HAS_QT
    "  export     draw a session's results as PNG, SVG or PDF figures\n"
    "  plugin     = run NAME for a probe plugin (--list: plugins found and files skipped)\n"
#endif
    "\n"
    "Run `mechscope-cli COMMAND --help` for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace mechscope::cli;
  const std::map<std::string, std::function<int(const std::vector<std::string>&)>> commands = {
      {"info", cmd_info},   {"generate", cmd_generate}, {"cache", cmd_cache},
      {"train", cmd_train}, {"evaluate", cmd_evaluate}, {"card", cmd_card},
      {"attention", cmd_attention}, {"run", cmd_run}, {"probes", cmd_probes},
      {"sae-train", cmd_sae_train},
#ifdef MECHSCOPE_CLI_HAS_QT
      {"export", cmd_export},
      {"plugin", cmd_plugin},
#endif
  };
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  auto it = commands.find(argv[1]);
  if (it == commands.end()) {
    std::cerr << "mechscope-cli: unknown command '" << argv[1] << "' (try --help).\n";
    return 2;
  }
  // One intra-op thread unless MECHSCOPE_THREADS / OMP_NUM_THREADS say otherwise (OpenBLAS
  // already uses every core): the one policy, core/util/threads.h.
  mechscope::configure_threads();
  try {
    return it->second(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "mechscope-cli " << argv[1] << ": " << e.what() << "\n";
    return 1;
  }
}
