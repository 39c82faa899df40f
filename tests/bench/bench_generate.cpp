// Generation benchmark: greedy generation of --new (128) tokens after a fixed prompt, with the KV
// cache (and, with --uncached or for small models, without it), against HF transformers'
// `generate` on the same HF folder and CPU (tests/reference/bench_hf_generate.py through
// .venv/bin/python). Target: ≤ 1.2 × HF's time.
//
// Models: the paths given, else the embedded default model, SmolLM2-135M-Instruct's GGUF file
// (.models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf) when it loads, and its HF conversion
// (.models/smollm2-hf, written by bench_hf_generate.py --gguf). HF runs on the model's folder, or
// for a GGUF file on --hf-dir (default .models/smollm2-hf).
// Usage: bench_generate [MODEL …] [--new N] [--reps R] [--uncached] [--no-hf] [--hf-dir DIR]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/model/default_model.h"
#include "core/model/generate.h"
#include "core/model/loader.h"
#include "core/util/threads.h"
#include "tests/bench/bench_common.h"

using namespace mechscope;
using namespace mechscope::bench;

namespace {

const fs::path kSource = MECHSCOPE_SOURCE_DIR;
const char* kPrompt = "Once upon a time, in a small village by the sea, there lived";

struct Timing {
  double seconds = 0;      // median over the repetitions
  double first_token = 0;  // of the last repetition: the prompt's run and the first token
  std::vector<int64_t> new_tokens;
};

/// Greedy generation of exactly `n` tokens (no stop at EOS), timed `reps` times.
Timing time_generation(const Model& model, const std::vector<int64_t>& prompt, int64_t n, int reps,
                       bool use_cache) {
  Timing t;
  std::vector<double> all;
  for (int r = 0; r < reps; ++r) {
    GenerateOptions o;
    o.max_new_tokens = n;
    o.stop_at_eos = false;
    o.use_cache = use_cache;
    const auto t0 = Clock::now();
    double first = 0;
    o.on_token = [&](int64_t) {
      if (first == 0) first = seconds_since(t0);
      return true;
    };
    const std::vector<int64_t> out = generate(model, prompt, o);
    all.push_back(seconds_since(t0));
    t.first_token = first;
    t.new_tokens.assign(out.begin() + int64_t(prompt.size()), out.end());
  }
  t.seconds = median(all);
  return t;
}

/// The folder HF loads for `model_path`: the folder itself, or `hf_dir` for a single file.
fs::path hf_folder(const fs::path& model_path, const fs::path& hf_dir) {
  if (fs::is_directory(model_path)) return model_path;
  return hf_dir;
}

int common_prefix(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return int(i);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n_new = 128;
  int reps = 1;
  bool uncached = false, hf = true;
  fs::path hf_dir = kSource / ".models/smollm2-hf";
  std::vector<fs::path> models;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--new")
      n_new = std::stoll(value());
    else if (a == "--reps")
      reps = std::stoi(value());
    else if (a == "--uncached")
      uncached = true;
    else if (a == "--no-hf")
      hf = false;
    else if (a == "--hf-dir")
      hf_dir = value();
    else
      models.push_back(a);
  }
  if (models.empty()) {
    models.push_back(default_model_path());
    const fs::path gguf = kSource / ".models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
    if (fs::exists(gguf)) models.push_back(gguf);
    if (fs::exists(hf_dir / "config.json")) models.push_back(hf_dir);
  }
  configure_threads();
  std::printf("intra-op threads: %d; %lld new tokens, greedy, median of %d\n",
              at::get_num_threads(), static_cast<long long>(n_new), reps);
  const fs::path python = kSource / ".venv/bin/python";

  for (const fs::path& path : models) {
    std::printf("\n%s\n", path.c_str());
    std::unique_ptr<Model> model;
    try {
      model = load_model(path);
    } catch (const std::exception& e) {
      std::printf("  does not load: %s\n", e.what());
      continue;
    }
    c10::InferenceMode guard;
    std::vector<int64_t> prompt;
    if (model->tokenizer() != nullptr) prompt = model->tokenizer()->encode(kPrompt, true).ids;
    if (prompt.empty())
      for (int64_t i = 1; i <= 12; ++i) prompt.push_back(i % model->config().d_vocab);
    std::printf("  %.1fM parameters, prompt %zu tokens, n_ctx %lld\n",
                model->parameter_count() / 1e6, prompt.size(),
                static_cast<long long>(model->config().n_ctx));
    time_generation(*model, prompt, 4, 1, true);  // warm-up (first-touch of the weights)

    const Timing cached = time_generation(*model, prompt, n_new, reps, true);
    std::printf("  cached:   %.3f s (%.1f tokens/s; first token %.0f ms, then %.1f ms/token)\n",
                cached.seconds, n_new / cached.seconds, cached.first_token * 1e3,
                (cached.seconds - cached.first_token) / double(n_new - 1) * 1e3);
    const bool small = model->parameter_count() < 20'000'000;
    if (uncached || small) {
      const Timing full = time_generation(*model, prompt, n_new, 1, false);
      std::printf(
          "  uncached: %.3f s (%.1f tokens/s) → the cache is %.1f× faster; same tokens: %s\n",
          full.seconds, n_new / full.seconds, full.seconds / cached.seconds,
          full.new_tokens == cached.new_tokens ? "yes" : "NO");
    }

    const fs::path folder = hf_folder(path, hf_dir);
    if (!hf || !fs::exists(python) || !fs::exists(folder / "config.json")) {
      std::printf("  HF: skipped (%s)\n", !hf ? "--no-hf" : "no .venv or HF folder");
      continue;
    }
    const nlohmann::json r =
        run_python_script(python, kSource / "tests/reference/bench_hf_generate.py",
                          "--dir \"" + folder.string() + "\" --tokens " + join(prompt) + " --new " +
                              std::to_string(n_new) + " --reps " + std::to_string(reps),
                          fs::temp_directory_path() / "mechscope_bench_hf_generate.log");
    if (r.is_null()) continue;
    // HF's faster setting is the yardstick: its default threads on a quiet machine, one thread
    // when other processes share the cores (torch's spinning OpenMP threads suffer most then).
    const double hf_default = r["hf_generate_s"].get<double>();
    const double hf_one = r["hf_generate_1t_s"].get<double>();
    const double hf_s = std::min(hf_default, hf_one);
    const auto hf_tokens = r["hf_tokens"].get<std::vector<int64_t>>();
    std::printf("  HF generate (%s): %.3f s with %d threads, %.3f s with 1 (%.1f tokens/s)\n",
                folder.c_str(), hf_default, r["threads"].get<int>(), hf_one, n_new / hf_s);
    std::printf(
        "  mechscope / HF = %.2f (target ≤ 1.2); same tokens as HF for the first %d of %zu\n",
        cached.seconds / hf_s, common_prefix(cached.new_tokens, hf_tokens), hf_tokens.size());
  }
  return 0;
}
