// Knockout benchmark: attention_knockout on a GPT-2-small-shaped model (random weights), a
// 64-token prompt, window 3, every one of the 12 centre layers — the probe (all centres as rows of
// batched forward passes) against one hooked forward pass per centre (how the Python tools loop,
// e.g. Geva et al.'s and Zhang et al.'s code) and against one plain forward pass; and
// information_flow on the default vision-language model (4 flows + 36 patch regions, × 3 layers =
// 120 experiments) against the same loop.
// Usage: bench_knockout [--dir DIR] [--reps N]
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>

#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/util/threads.h"
#include "probes/knockout.h"
#include "probes/knockout_prompts.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "probes/tensors.h"
#include "tests/bench/bench_common.h"

using namespace mechscope;
using namespace mechscope::bench;

namespace {

/// One full hooked forward pass per experiment (row of `layers`): the loop a Python script
/// writes (Geva et al.'s and Zhang et al.'s code block attention this way, one run at a time).
void loop_knockout(const Model& model, const std::vector<int64_t>& tokens, const at::Tensor& pixels,
                   const at::Tensor& blocked, const at::Tensor& layers) {
  const at::Tensor prompt = probes::prompt_tensor(model, tokens);
  for (int64_t e = 0; e < layers.size(0); ++e) {
    HookSet hooks;
    probes::add_attention_knockout(hooks, blocked.size(0) == 1 ? blocked : blocked.slice(0, e, e + 1),
                                   layers.slice(0, e, e + 1));
    probes::run_tokens(model, prompt, pixels, &hooks);
  }
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = default_bench_dir();
  int reps = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_knockout [--dir DIR] [--reps N]\n");
      return 2;
    }
  }
  std::printf("intra-op threads: %d\n", configure_threads());
  c10::InferenceMode guard;
  const auto& registry = probes::ProbeRegistry::builtin();

  write_gpt2_small(dir);
  auto model = load_model(dir);
  const int64_t T = 64, L = model->config().n_layers;
  at::manual_seed(3);
  const at::Tensor rnd = at::randint(0, model->config().d_vocab, {T}, at::kLong);
  probes::ProbeInputs in;
  in.tokens.assign(rnd.data_ptr<int64_t>(), rnd.data_ptr<int64_t>() + T);
  in.answer_id = 1000;
  const nlohmann::json options = {{"from", "1:40"}, {"to", "last"}, {"window", 3}};
  const double probe = median_seconds(reps, [&] {
    probes::run_probe(registry.get("attention_knockout"), *model, in, options);
  });
  std::vector<int64_t> from;
  for (int64_t i = 1; i < 40; ++i) from.push_back(i);
  const at::Tensor blocked = probes::edge_mask(T, from, {T - 1}).unsqueeze(0);
  const at::Tensor windows = probes::window_table(L, 3);
  const double loop = median_seconds(reps, [&] { loop_knockout(*model, in.tokens, {}, blocked, windows); });
  const at::Tensor prompt = probes::prompt_tensor(*model, in.tokens);
  const double forward = median_seconds(reps, [&] { model->run(prompt); });
  const double sweep = median_seconds(reps, [&] {
    probes::knockout_probabilities(*model, in.tokens, {}, 1000, blocked, windows);
  });
  std::printf("1. attention_knockout, GPT-2-small shape, %lld tokens, 12 centres (window 3), "
              "tokens 1…39 blocked from the last:\n"
              "   probe %.3f s (its sweep %.3f s); a full hooked forward per centre %.3f s (%.1f× "
              "the probe); one forward %.3f s (probe = %.1f forwards)\n",
              static_cast<long long>(T), probe, sweep, loop, loop / probe, forward, probe / forward);

  auto vlm = load_model(default_vlm_path());
  const nlohmann::json flow = {{"task", "shapes_vqa"}, {"examples", 10}, {"seed", 1}};
  const double flow_probe =
      median_seconds(reps, [&] { probes::run_probe(registry.get("information_flow"), *vlm, {}, flow); });
  // The loop over the same experiments of the same examples.
  const auto prompts = probes::knockout_prompts(*vlm, {}, probes::Options(nlohmann::json{
                                                          {"task", "shapes_vqa"}, {"examples", 10},
                                                          {"seed", 1}, {"window", 1}}));
  const int64_t VL = vlm->config().n_layers;
  const double flow_loop = median_seconds(reps, [&] {
    for (const auto& p : prompts.items) {
      const int64_t n = int64_t(p.tokens.size());
      const at::Tensor masks = at::zeros({40, n, n}, at::kBool);  // 4 flows + 36 regions
      loop_knockout(*vlm, p.tokens, p.pixels, masks.repeat_interleave(VL, 0),
                    probes::window_table(VL, 1).repeat({40, 1}));
    }
  });
  std::printf("2. information_flow, default VLM, 10 examples × 120 experiments: probe %.3f s; a "
              "forward per experiment %.3f s (%.1f× the probe)\n",
              flow_probe, flow_loop, flow_loop / flow_probe);
  return 0;
}
