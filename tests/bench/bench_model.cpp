// Model-host benchmark on a GPT-2-small-shaped model (124M parameters, random weights):
//  1. tokens/s of a 128-token forward pass (batch 1 and batch 8),
//  2. the cost of a full cache of every hook point relative to no hooks (target ≤ 1.15),
//  2b. the hooked forward relative to a hand-written plain LibTorch GPT-2 forward (≤ 1.15), the
//      latter under its own fastest thread policy,
//  3. loading the checkpoint from safetensors relative to reading its bytes (target ≤ ~1.2).
// Usage: bench_model [--device cuda] [--dir /tmp/mechscope_bench]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/model/loader.h"
#include "core/util/threads.h"
#include "tests/bench/bench_common.h"

using namespace mechscope;
using namespace mechscope::bench;

int main(int argc, char** argv) {
  std::string device = "cpu";
  fs::path dir = default_bench_dir();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--device") device = argv[i + 1];
    if (std::string(argv[i]) == "--dir") dir = argv[i + 1];
  }
  configure_threads();
  std::printf("threads: %d, device: %s\n", at::get_num_threads(), device.c_str());
  write_gpt2_small(dir);
  const fs::path file = dir / "model.safetensors";

  // 3. Loading versus reading the bytes (both from the page cache after a warm-up read).
  const auto bytes = fs::file_size(file);
  std::vector<char> buf(bytes);
  auto read_all = [&] {
    std::ifstream in(file, std::ios::binary);
    in.read(buf.data(), bytes);
  };
  read_all();
  const double t_read = median_seconds(3, read_all);
  const double t_load = median_seconds(3, [&] {
    auto m = load_model(dir);
    // Touch every weight so lazily mapped pages are really read.
    c10::InferenceMode g;
    double s = 0;
    for (const auto& n : m->weights().tl_names()) s += m->weight(n).sum().item<double>();
    if (s == 12345.678) std::printf(" ");
  });
  const double t_touch = median_seconds(3, [&] {
    std::ifstream in(file, std::ios::binary);
    in.read(buf.data(), bytes);
    at::Tensor all = at::from_blob(buf.data(), {int64_t(bytes / 4)}, at::kFloat);
    if (all.sum().item<double>() == 12345.678) std::printf(" ");
  });
  const double t_lazy = median_seconds(3, [&] { load_model(dir); });
  std::printf("checkpoint: %.0f MB; read bytes %.3f s; load (lazy mmap) %.3f s; read+sum %.3f s; "
              "load+sum of every weight %.3f s → ratio %.2f\n",
              bytes / 1e6, t_read, t_lazy, t_touch, t_load, t_load / t_touch);

  LoadOptions opts;
  opts.device = parse_device(device);
  auto model = load_model(dir, opts);
  std::printf("parameters: %lld\n", static_cast<long long>(model->parameter_count()));
  c10::InferenceMode guard;
  for (int64_t batch : {1, 8}) {
    at::Tensor tokens = at::randint(0, 50257, {batch, 128}, at::kLong);
    auto sync = [&] {
      if (!opts.device.is_cpu()) model->forward(tokens.slice(1, 0, 1)).cpu();
    };
    model->forward(tokens);  // warm-up
    // Interleaved so that drifts in machine speed hit all three alike; medians.
    const int reps = batch == 1 ? 15 : 5;
    std::vector<double> plain, full, no_result, handwritten;
    size_t kept = 0;
    auto timed = [&](auto&& fn) {
      auto t0 = Clock::now();
      fn();
      sync();
      return seconds_since(t0);
    };
    for (int i = 0; i < reps; ++i) {
      plain.push_back(timed([&] { model->forward(tokens); }));
      full.push_back(timed([&] { kept = model->run_with_cache(tokens, {}, nullptr).size(); }));
      no_result.push_back(
          timed([&] { model->run_with_cache(tokens, {}, names_matching("^(?!.*hook_result)")); }));
    }
    // The hand-written forward in a loop of its own: under its policy OpenBLAS's threads keep
    // spinning for a while after each product and would slow whatever ran next.
    if (opts.device.is_cpu())
      under_openblas_policy([&] {
        plain_gpt2_forward(*model, tokens);
        for (int i = 0; i < reps; ++i)
          handwritten.push_back(timed([&] { plain_gpt2_forward(*model, tokens); }));
      });
    const double t_plain = median(plain), t_cache = median(full), t_no_result = median(no_result);
    std::printf("batch %lld × 128 tokens: forward %.1f ms (%.0f tokens/s); full cache of %zu "
                "hook points %.1f ms; ratio %.3f (%.3f without the opt-in hook_result)\n",
                static_cast<long long>(batch), t_plain * 1e3, batch * 128 / t_plain, kept,
                t_cache * 1e3, t_cache / t_plain, t_no_result / t_plain);
    if (!handwritten.empty())
      std::printf(
          "  hand-written plain LibTorch forward (1 intra-op thread, OpenBLAS on every "
          "core: its fastest) %.1f ms; hooked / plain = %.3f (target ≤ 1.15)\n",
          median(handwritten) * 1e3, t_plain / median(handwritten));
  }
  return 0;
}
