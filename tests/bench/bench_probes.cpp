// Probe benchmark on a GPT-2-small-shaped model (random weights), 20-token prompt pair:
//  1. activation_patching (target resid_pre, 12 × 20 = 240 cells) through the registry, versus
//     240 plain batched forward passes of 20 tokens (model.forward in the sweep's chunk size) and
//     versus TransformerLens's get_act_patch_resid_pre on the same checkpoint and CPU
//     (tests/reference/bench_tl_patching.py through .venv/bin/python, when it exists).
//     Targets: ≥ 10× faster than TransformerLens, ≤ 1.5× the plain batched forwards.
//  2. attribution_patching with all_targets (every head and neuron) versus one forward pass of the
//     prompt. Target ≤ 3×.
//  3. The forward pass of 1 × 128 tokens: the hooked transformer (no hooks) under the default
//     thread policy (core/util/threads.h) versus a plain hand-written LibTorch GPT-2 forward on
//     the same weights under that policy and under its own fastest one (target ≤ 1.15×), and
//     versus HF transformers on pip torch (from the same Python script; target: not slower).
// Usage: bench_probes [--dir DIR] [--reps N] [--no-tl] [--no-python] [--tl-reps N]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/model/loader.h"
#include "core/util/gemm.h"
#include "core/util/threads.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "probes/tensors.h"
#include "tests/bench/bench_common.h"

using namespace mechscope;
using namespace mechscope::bench;

namespace {

/// Runs tests/reference/bench_tl_patching.py (see run_python in bench_common.h).
nlohmann::json run_python(const fs::path& python, const std::string& args, const fs::path& log) {
  return run_python_script(
      python, fs::path(MECHSCOPE_SOURCE_DIR) / "tests/reference/bench_tl_patching.py", args, log);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = default_bench_dir();
  int reps = 3, tl_reps = 1;
  bool tl = true, python = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--tl-reps" && i + 1 < argc) tl_reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--no-tl") tl = false;
    else if (a == "--no-python") python = tl = false;
    else {
      std::fprintf(stderr, "usage: bench_probes [--dir DIR] [--reps N] [--no-tl] [--no-python] "
                           "[--tl-reps N]\n");
      return 2;
    }
  }
  const int threads = configure_threads();
  std::printf("intra-op threads: %d (core/util/threads.h; MECHSCOPE_THREADS / OMP_NUM_THREADS "
              "override), hardware threads: %u\n",
              threads, std::thread::hardware_concurrency());
  write_gpt2_small(dir);
  auto model = load_model(dir);
  const ModelConfig& c = model->config();

  // A 20-token prompt pair differing at two positions; answer and wrong answer tokens.
  const int64_t T = 20;
  at::manual_seed(1);
  const at::Tensor rnd = at::randint(0, c.d_vocab, {T}, at::kLong);
  std::vector<int64_t> clean(rnd.data_ptr<int64_t>(), rnd.data_ptr<int64_t>() + T);
  std::vector<int64_t> corrupt = clean;
  corrupt[2] = (corrupt[2] + 7) % c.d_vocab;
  corrupt[12] = (corrupt[12] + 11) % c.d_vocab;
  probes::ProbeInputs inputs;
  inputs.tokens = clean;
  inputs.corrupt_tokens = corrupt;
  inputs.answer_id = 1000;
  inputs.wrong_id = 2000;
  const auto& registry = probes::ProbeRegistry::builtin();

  // 1. Activation patching versus plain batched forwards.
  const int64_t cells = int64_t(c.n_layers) * T;
  const int64_t chunk = probes::sweep_batch_size(*model, T);
  at::Tensor rows;  // [cells, T] the corrupted prompt, once per cell
  {
    c10::InferenceMode g;
    rows = at::tensor(corrupt, at::kLong).view({1, T}).expand({cells, T}).contiguous();
  }
  Result sweep_result;
  auto sweep = [&] {
    sweep_result = probes::run_probe(registry.get("activation_patching"), *model, inputs,
                                     {{"target", "resid_pre"}, {"metric", "logit_diff"}});
  };
  auto plain_batched = [&] {
    c10::InferenceMode g;
    for (int64_t s = 0; s < cells; s += chunk) model->forward(rows.slice(0, s, std::min(cells, s + chunk)));
  };
  sweep();  // warm-up
  std::vector<double> t_sweep, t_plain;
  for (int i = 0; i < reps; ++i) {
    t_sweep.push_back(time_once(sweep));
    t_plain.push_back(time_once(plain_batched));
  }
  const double sweep_s = median(t_sweep), plain_s = median(t_plain);
  std::printf("\n1. activation_patching resid_pre, %lld-token prompt, %lld cells (chunks of %lld "
              "rows), medians of %d:\n"
              "   sweep (run_probe) %.3f s; %lld plain batched forwards of %lld tokens %.3f s; "
              "sweep / plain = %.2f (target ≤ 1.5)\n",
              (long long)T, (long long)cells, (long long)chunk, reps, sweep_s, (long long)cells,
              (long long)T, plain_s, sweep_s / plain_s);

  // 2. Attribution patching, every target, versus one forward pass.
  auto attribution = [&] {
    probes::run_probe(registry.get("attribution_patching"), *model, inputs,
                      {{"target", "resid_pre"}, {"all_targets", true}});
  };
  at::Tensor prompt = at::tensor(clean, at::kLong).view({1, T});
  auto one_forward = [&] {
    c10::InferenceMode g;
    model->forward(prompt);
  };
  attribution();
  one_forward();
  std::vector<double> t_attr, t_fwd20;
  for (int i = 0; i < 3 * reps; ++i) {
    t_attr.push_back(time_once(attribution));
    t_fwd20.push_back(time_once(one_forward));
  }
  const double attr_s = median(t_attr), fwd20_s = median(t_fwd20);
  std::printf("\n2. attribution_patching all_targets %.1f ms; one forward of %lld tokens %.1f ms; "
              "ratio %.2f (target ≤ 3)\n",
              attr_s * 1e3, (long long)T, fwd20_s * 1e3, attr_s / fwd20_s);

  // 3. The forward pass of 1 × 128 tokens: hooked versus plain, per thread count.
  at::Tensor tokens128 = at::randint(0, c.d_vocab, {1, 128}, at::kLong);
  std::printf("\n3. forward 1 × 128 tokens (medians of %d, interleaved):\n", 5 * reps);
  double hooked_default = 0, plain_default = 0;
  {
    c10::InferenceMode g;
    at::Tensor a = model->forward(tokens128), b = plain_gpt2_forward(*model, tokens128);
    const double diff = (a - b).abs().max().item<double>();
    // The hooked forward under mechscope's policy (configure_threads), interleaved with the plain
    // one under the same policy; then the plain one under its own fastest (one intra-op thread,
    // OpenBLAS on every core) in a loop of its own, since OpenBLAS's threads keep spinning for a
    // while after each product and would slow whatever runs next.
    std::vector<double> th, tp, tp_best;
    for (int i = 0; i < 5 * reps; ++i) {
      th.push_back(time_once([&] { model->forward(tokens128); }));
      tp.push_back(time_once([&] { plain_gpt2_forward(*model, tokens128); }));
    }
    under_openblas_policy([&] {
      plain_gpt2_forward(*model, tokens128);
      for (int i = 0; i < 5 * reps; ++i)
        tp_best.push_back(time_once([&] { plain_gpt2_forward(*model, tokens128); }));
    });
    hooked_default = median(th), plain_default = median(tp_best);
    std::printf(
        "   hooked %.1f ms (%d intra-op threads%s); plain LibTorch %.1f ms under the same "
        "policy, %.1f ms under its fastest (1 intra-op thread, OpenBLAS on every core)\n"
        "   hooked / fastest plain = %.3f (target ≤ 1.15; max |logit diff| %.1e)\n",
        median(th) * 1e3, threads, fast_cpu_gemm() ? ", oneDNN products" : "", median(tp) * 1e3,
        median(tp_best) * 1e3, median(th) / median(tp_best), diff);
  }

  // TransformerLens and HF on the same checkpoint and CPU.
  const fs::path py = fs::path(MECHSCOPE_SOURCE_DIR) / ".venv/bin/python";
  if (!python || !fs::exists(py)) {
    std::printf("\nTransformerLens / HF: skipped (%s)\n",
                python ? (py.string() + " not found").c_str() : "--no-python");
    return 0;
  }
  std::printf("\nTransformerLens / HF (%s, %s)…\n", py.c_str(), tl ? "sweep and forward" : "forward only");
  std::fflush(stdout);
  nlohmann::json r = run_python(
      py,
      "--dir \"" + dir.string() + "\" --clean " + join(clean) + " --corrupt " + join(corrupt) +
          " --answer " + std::to_string(*inputs.answer_id) + " --wrong " +
          std::to_string(*inputs.wrong_id) + " --reps " + std::to_string(tl_reps) +
          (tl ? "" : " --skip-tl"),
      dir / "bench_tl_patching.log");
  if (r.is_null()) return 1;
  std::printf("   torch %s, transformers %s, torch threads %d\n",
              r["torch"].get<std::string>().c_str(), r["transformers"].get<std::string>().c_str(),
              r["threads"].get<int>());
  const double hf_s = r["hf_forward_128_s"].get<double>();
  std::printf("   HF forward 1 × 128: %.1f ms (torch threads %d)", hf_s * 1e3, r["threads"].get<int>());
  if (r.contains("hf_forward_128_s_threads1"))
    std::printf(", %.1f ms (1 thread)", r["hf_forward_128_s_threads1"].get<double>() * 1e3);
  std::printf("\n   hooked / HF = %.2f, fastest plain / HF = %.2f (target: hooked ≤ 1)\n",
              hooked_default / hf_s, plain_default / hf_s);
  if (r.contains("tl_resid_pre_s")) {
    const double tl_s = r["tl_resid_pre_s"].get<double>();
    // The same numbers on both sides?
    const Array& e = sweep_result.arrays.at("effect");  // [layer, position]
    double worst = 0;
    const auto first = r["tl_effect_first_layer"].get<std::vector<double>>();
    const auto last = r["tl_effect_last_layer"].get<std::vector<double>>();
    for (int64_t p = 0; p < T; ++p) {
      worst = std::max(worst, std::abs(e.data[p] - first[p]));
      worst = std::max(worst, std::abs(e.data[(c.n_layers - 1) * T + p] - last[p]));
    }
    std::printf("   TransformerLens %s get_act_patch_resid_pre: %.2f s (one TL forward %.1f ms); "
                "mechscope sweep %.3f s → %.1f× faster (target ≥ 10×); max |effect diff| %.1e\n",
                r["transformer_lens"].get<std::string>().c_str(), tl_s,
                r["tl_forward_s"].get<double>() * 1e3, sweep_s, tl_s / sweep_s, worst);
  }
  return 0;
}
