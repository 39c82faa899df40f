#pragma once
// What the benchmarks share: timing helpers, the GPT-2-small-shaped random checkpoint (an HF GPT-2
// folder that mechscope, HF transformers and TransformerLens all load), and a minimal hand-written
// GPT-2 forward pass on the model's own weight tensors (the "plain LibTorch" yardstick).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/util/threads.h"

namespace mechscope::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double time_once(F&& fn) {
  auto t0 = Clock::now();
  fn();
  return seconds_since(t0);
}

template <typename F>
double median_seconds(int reps, F&& fn) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) t.push_back(time_once(fn));
  return median(t);
}

/// "1,2,3": token ids for the Python reference scripts' command lines.
inline std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (int64_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

/// Runs a Python reference script (tests/reference/bench_*.py) with `python` (the repository's
/// .venv), its stderr to `log`; its last stdout line is a JSON object (null on failure).
inline nlohmann::json run_python_script(const fs::path& python, const fs::path& script,
                                        const std::string& args, const fs::path& log) {
  const std::string cmd = "\"" + python.string() + "\" \"" + script.string() + "\" " + args +
                          " 2>\"" + log.string() + "\"";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return nullptr;
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = pclose(p);
  const std::size_t end = out.find_last_not_of("\n");
  if (rc != 0 || end == std::string::npos) {
    std::printf("  the Python script failed (exit %d); see %s\n", rc, log.c_str());
    return nullptr;
  }
  const std::size_t nl = out.rfind('\n', end);
  const std::size_t begin = nl == std::string::npos ? 0 : nl + 1;
  const std::string last = out.substr(begin, end + 1 - begin);
  try {
    return nlohmann::json::parse(last);
  } catch (const std::exception&) {
    std::printf("  could not read the Python script's output: %s\n", last.c_str());
    return nullptr;
  }
}

/// The default checkpoint folder of the benchmarks.
inline fs::path default_bench_dir() {
  return fs::temp_directory_path() / "mechscope_bench_gpt2_small";
}

/// Writes a GPT-2-small-shaped HF checkpoint with random weights (the weights once; config.json
/// every time, so older folders gain the fields HF needs). HF names and Conv1D layouts, tied
/// unembedding: core/adapters/gpt2.cpp, `transformers` and TransformerLens read the same folder.
inline void write_gpt2_small(const fs::path& dir) {
  fs::create_directories(dir);
  const int64_t D = 768, L = 12, H = 12, V = 50257, N = 1024, M = 3072;
  nlohmann::json cfg = {{"architectures", {"GPT2LMHeadModel"}},
                        {"model_type", "gpt2"},
                        {"n_embd", D},
                        {"n_layer", L},
                        {"n_head", H},
                        {"n_inner", nullptr},
                        {"vocab_size", V},
                        {"n_positions", N},
                        {"n_ctx", N},
                        {"layer_norm_epsilon", 1e-5},
                        {"activation_function", "gelu_new"},
                        {"tie_word_embeddings", true},
                        {"bos_token_id", 50256},
                        {"eos_token_id", 50256}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  if (fs::exists(dir / "model.safetensors")) return;
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

/// Runs `fn` under the thread policy that is fastest for plain LibTorch here (its products on
/// OpenBLAS): one intra-op thread, OpenBLAS on every core (tests/bench/README.md). mechscope's
/// own policy (configure_threads()) is restored afterwards.
template <class F>
void under_openblas_policy(F&& fn) {
  at::set_num_threads(1);
  set_openblas_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  fn();
  configure_threads();
}

/// A minimal GPT-2 forward pass (learned positions, pre-LayerNorm, tanh GELU, tied unembedding)
/// written directly with at::linear / at::layer_norm / softmax on `model`'s weight tensors: no
/// hooks, no masks beyond the causal one, no checks. Logits [batch, pos, d_vocab].
inline at::Tensor plain_gpt2_forward(const Model& model, const at::Tensor& tokens) {
  const ModelConfig& c = model.config();
  const Weights& w = model.weights();
  const int64_t B = tokens.size(0), T = tokens.size(1), H = c.n_heads, dh = c.d_head,
                D = c.d_model;
  at::Tensor x = w.embed.index_select(0, tokens.reshape(-1)).view({B, T, D}) +
                 w.pos_embed.slice(0, 0, T);  // [batch, pos, d_model]
  const at::Tensor causal =
      at::ones({T, T}, at::TensorOptions().dtype(at::kBool)).triu(1);  // [q, k] true = masked
  const double scale = 1.0 / std::sqrt(double(dh));
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& L = w.layers[l];
    at::Tensor h = at::layer_norm(x, {D}, L.ln1_w, L.ln1_b, c.norm_eps);
    at::Tensor qkv = at::linear(h, L.qkv_w, L.qkv_b).view({B, T, 3, H, dh});  // [b, p, 3, H, dh]
    at::Tensor q = qkv.select(2, 0).transpose(1, 2);  // [batch, H, pos, d_head]
    at::Tensor k = qkv.select(2, 1).transpose(1, 2);
    at::Tensor v = qkv.select(2, 2).transpose(1, 2);
    at::Tensor scores = at::matmul(q, k.transpose(-1, -2)).mul_(scale);  // [b, H, q, k]
    scores.masked_fill_(causal, -std::numeric_limits<float>::infinity());
    at::Tensor z = at::matmul(at::softmax(scores, -1), v);  // [batch, H, pos, d_head]
    x = x + at::linear(z.transpose(1, 2).reshape({B, T, H * dh}), L.o_w, L.o_b);
    h = at::layer_norm(x, {D}, L.ln2_w, L.ln2_b, c.norm_eps);
    x = x + at::linear(at::gelu(at::linear(h, L.in_w, L.in_b), "tanh"), L.out_w, L.out_b);
  }
  x = at::layer_norm(x, {D}, w.lnf_w, w.lnf_b, c.norm_eps);
  return at::linear(x, w.unembed_w, w.unembed_b);  // [batch, pos, d_vocab]
}

}  // namespace mechscope::bench
