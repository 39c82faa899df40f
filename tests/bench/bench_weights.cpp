// Weight-space probe benchmark on a GPT-2-small-shaped model (random weights):
//  1. neuron_decoding of every MLP neuron (12 × 3072 = 36,864 write vectors and as many read
//     vectors, top and bottom 10 tokens of 50,257) through the registry, versus the bare GEMMs of
//     the same size (36,864 × 768 × 50,257, twice) in plain LibTorch. Target ≤ 1.3×.
//  2. head_svd and composition of all 144 heads (factored: no d_model × d_model matrices).
// Usage: bench_weights [--dir DIR] [--reps N]
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>
#include <string>

#include "core/model/loader.h"
#include "core/util/gemm.h"
#include "core/util/threads.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/bench/bench_common.h"

using namespace mechscope;
using namespace mechscope::bench;

int main(int argc, char** argv) {
  configure_threads();
  fs::path dir = default_bench_dir();
  int reps = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
  }
  write_gpt2_small(dir);
  auto model = load_model(dir);
  const auto& registry = probes::ProbeRegistry::builtin();
  c10::InferenceMode guard;
  const int64_t L = model->config().n_layers, M = model->config().d_mlp;

  // The bare GEMMs: every write and read vector against the unembedding, in the same chunks
  // (one chunk of logits alive at a time, as the probe does), nothing else; through the same
  // product as the probe (core/util/gemm.h: oneDNN's where the process has it).
  const at::Tensor wu = model->weights().unembed_w.t();  // [d_model, d_vocab]
  const int64_t rows = 320;
  const double gemm = median_seconds(reps, [&] {
    for (int64_t l = 0; l < L; ++l)
      for (const at::Tensor& v : {model->weights().layers[l].out_w.t(), model->weights().layers[l].in_w})
        for (int64_t r0 = 0; r0 < M; r0 += rows) {
          const at::Tensor logits = mechscope::mm(v.slice(0, r0, std::min(M, r0 + rows)), wu);
          (void)logits;
        }
  });
  const double probe = median_seconds(reps, [&] {
    probes::run_probe(registry.get("neuron_decoding"), *model, {}, {{"top_k", 10}});
  });
  const double flops = 2.0 * 2.0 * double(L * M) * 768.0 * 50257.0;
  std::printf("1. neuron_decoding, %lld neurons × (write + read) × 50,257 tokens, top/bottom 10:\n",
              static_cast<long long>(L * M));
  std::printf("   probe %.2f s; bare GEMMs %.2f s (%.0f GFLOP/s); probe / GEMM = %.2f (target ≤ 1.3)\n",
              probe, gemm, flops / gemm / 1e9, probe / gemm);

  const double svd = median_seconds(reps, [&] {
    probes::run_probe(registry.get("head_svd"), *model, {}, nullptr);
  });
  const double comp = median_seconds(reps, [&] {
    probes::run_probe(registry.get("composition"), *model, {}, nullptr);
  });
  std::printf("2. head_svd of 144 heads %.2f s; composition (q, k, v, 144 × 144, baseline) %.2f s\n",
              svd, comp);
  return 0;
}
