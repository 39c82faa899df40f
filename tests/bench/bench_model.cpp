// Model-host benchmark on a GPT-2-small-shaped model (124M parameters, random weights):
//  1. tokens/s of a 128-token forward pass (batch 1 and batch 8),
//  2. the cost of a full cache of every hook point relative to no hooks (target ≤ 1.15),
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

#include "core/io/safetensors.h"
#include "core/model/loader.h"

using namespace mechscope;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <typename F>
double median_seconds(int reps, F&& fn) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    fn();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Writes a GPT-2-small-shaped HF checkpoint with random weights (once).
void write_gpt2_small(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return;
  fs::create_directories(dir);
  const int64_t D = 768, L = 12, V = 50257, N = 1024, M = 3072;
  nlohmann::json cfg = {{"architectures", {"GPT2LMHeadModel"}}, {"n_embd", D}, {"n_layer", L},
                        {"n_head", 12}, {"vocab_size", V}, {"n_positions", N},
                        {"layer_norm_epsilon", 1e-5}, {"activation_function", "gelu_new"}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  at::manual_seed(0);
  std::map<std::string, at::Tensor> t;
  auto rnd = [](std::vector<int64_t> s) { return at::randn(s) * 0.02; };
  t["transformer.wte.weight"] = rnd({V, D});
  t["transformer.wpe.weight"] = rnd({N, D});
  for (int64_t l = 0; l < L; ++l) {
    const std::string h = "transformer.h." + std::to_string(l) + ".";
    t[h + "ln_1.weight"] = at::ones({D});
    t[h + "ln_1.bias"] = at::zeros({D});
    t[h + "attn.c_attn.weight"] = rnd({D, 3 * D});
    t[h + "attn.c_attn.bias"] = at::zeros({3 * D});
    t[h + "attn.c_proj.weight"] = rnd({D, D});
    t[h + "attn.c_proj.bias"] = at::zeros({D});
    t[h + "ln_2.weight"] = at::ones({D});
    t[h + "ln_2.bias"] = at::zeros({D});
    t[h + "mlp.c_fc.weight"] = rnd({D, M});
    t[h + "mlp.c_fc.bias"] = at::zeros({M});
    t[h + "mlp.c_proj.weight"] = rnd({M, D});
    t[h + "mlp.c_proj.bias"] = at::zeros({D});
  }
  t["transformer.ln_f.weight"] = at::ones({D});
  t["transformer.ln_f.bias"] = at::zeros({D});
  write_safetensors(dir / "model.safetensors", t);
}

}  // namespace

int main(int argc, char** argv) {
  std::string device = "cpu";
  fs::path dir = fs::temp_directory_path() / "mechscope_bench_gpt2_small";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--device") device = argv[i + 1];
    if (std::string(argv[i]) == "--dir") dir = argv[i + 1];
  }
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
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
    std::vector<double> plain, full, no_result;
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
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    const double t_plain = median(plain), t_cache = median(full), t_no_result = median(no_result);
    std::printf("batch %lld × 128 tokens: forward %.1f ms (%.0f tokens/s); full cache of %zu "
                "hook points %.1f ms; ratio %.3f (%.3f without the opt-in hook_result)\n",
                static_cast<long long>(batch), t_plain * 1e3, batch * 128 / t_plain, kept,
                t_cache * 1e3, t_cache / t_plain, t_no_result / t_plain);
  }
  return 0;
}
