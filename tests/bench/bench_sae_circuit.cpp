// bench_sae_circuit: the sae_circuit probe (O'Neill & Bui) on the default text model, default
// options, for ioi, greater_than and induction over seeds 0…N−1: node and edge ROC-AUC against
// the activation-patching truth, the SAE method's own time and the patching truth's, and the
// probe's wall time (examples, forward passes, SAE, codes, truth). Target (the issue): < 30 s.
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/util/threads.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/bench/bench_common.h"

using namespace mechscope;
using namespace mechscope::bench;

namespace {

double number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

double mean(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (!std::isnan(x)) s += x, ++n;
  return n ? s / n : std::nan("");
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seeds" && i + 1 < argc) {
      seeds = std::stoi(argv[++i]);
    } else {
      std::printf("usage: bench_sae_circuit [--seeds N]\n");
      return 2;
    }
  }
  const int threads = configure_threads();
  c10::InferenceMode guard;
  auto model = load_model(default_model_path());
  const auto& probe = probes::ProbeRegistry::builtin().get("sae_circuit");
  std::printf("bench_sae_circuit: %s, %d intra-op thread(s), seeds 0-%d, default options\n",
              default_model_path().filename().string().c_str(), threads, seeds - 1);
  std::printf("%-13s %9s %9s %9s %11s %9s %9s\n", "task", "node AUC", "edge AUC", "SAE s",
              "patching s", "wall s", "max wall");
  for (const char* task : {"ioi", "greater_than", "induction"}) {
    std::vector<double> auc, edge, sae, patching, wall;
    for (int seed = 0; seed < seeds; ++seed) {
      const auto t0 = Clock::now();
      const Result r = probes::run_probe(probe, *model, {}, {{"task", task}, {"seed", seed}});
      wall.push_back(seconds_since(t0));
      auc.push_back(number(r.meta, "auc"));
      edge.push_back(number(r.meta, "edge_auc"));
      sae.push_back(number(r.meta, "seconds_sae"));
      patching.push_back(number(r.meta, "seconds_patching"));
    }
    double most = 0;
    for (double w : wall) most = std::max(most, w);
    std::printf("%-13s %9.3f %9.3f %9.2f %11.2f %9.2f %9.2f\n", task, mean(auc), mean(edge),
                mean(sae), mean(patching), mean(wall), most);
  }
  return 0;
}
