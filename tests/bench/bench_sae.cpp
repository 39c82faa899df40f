// bench_sae: SAE feature extraction as the sae_features probe runs it (probes/sae_extract.h:
// latents, reconstruction error, each position's top-k) for a 128-token prompt's activations
// [128, 768] with a random 16,384-latent SAE (d_in 768), against the two matrix products it
// cannot avoid (x·W_enc [128×768 · 768×16384] and f·W_dec [128×16384 · 16384×768]) timed alone
// in the same run, interleaved rep by rep. Also the straightforward version (Sae::encode,
// Sae::decode, at::topk) and each step alone. Target (the issue): extraction ≤ 1.2× the GEMMs.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/sae/sae.h"
#include "core/util/gemm.h"
#include "core/util/threads.h"
#include "probes/row_top_k.h"
#include "probes/sae_extract.h"
#include "tests/bench/bench_common.h"

using namespace mechscope;
using namespace mechscope::bench;

int main(int argc, char** argv) {
  int reps = 30;
  int64_t positions = 128, d_in = 768, d_sae = 16384, k = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
    else if (a == "--positions" && i + 1 < argc) positions = std::stoll(argv[++i]);
    else if (a == "--d-sae" && i + 1 < argc) d_sae = std::stoll(argv[++i]);
    else {
      std::printf("usage: bench_sae [--reps N] [--positions P] [--d-sae N]\n");
      return 2;
    }
  }
  const int threads = configure_threads();
  c10::InferenceMode guard;
  at::manual_seed(0);
  sae::Sae s;
  s.cfg.hook_name = "blocks.6.hook_resid_pre";
  s.cfg.d_in = d_in;
  s.cfg.d_sae = d_sae;
  s.W_enc = at::randn({d_in, d_sae}) / std::sqrt(double(d_in));
  s.W_dec = at::randn({d_sae, d_in}) / std::sqrt(double(d_sae));
  s.b_enc = at::randn({d_sae}) * 0.1 - 0.5;  // about a third of the latents fire
  s.b_dec = at::randn({d_in}) * 0.05;
  const at::Tensor x = at::randn({positions, d_in});
  const at::Tensor f = at::relu(at::addmm(s.b_enc, x, s.W_enc));
  std::printf("bench_sae: x [%lld, %lld], SAE d_sae %lld, top-%lld, %d intra-op thread(s), %d reps\n",
              (long long)positions, (long long)d_in, (long long)d_sae, (long long)k, threads, reps);
  std::printf("  latents active: %.1f%%\n", 100.0 * (f > 0).to(at::kFloat).mean().item<double>());

  auto gemms = [&] {
    at::Tensor a = mechscope::mm(x, s.W_enc);  // the product extraction uses (core/util/gemm.h)
    at::Tensor b = mechscope::mm(f, s.W_dec);
    return a.data_ptr<float>()[0] + b.data_ptr<float>()[0];
  };
  auto extraction = [&] { return probes::extract_features(s, x, k).top_values.data_ptr<float>()[0]; };
  auto straightforward = [&] {  // the first version: the SAE's own encode / decode, at::topk
    const at::Tensor acts = s.encode(x);
    const at::Tensor err = (x - s.decode(acts, x)).norm(2, 1) / x.norm(2, 1);
    auto [v, i] = acts.topk(k, 1);
    return v.data_ptr<float>()[0] + err.data_ptr<float>()[0];
  };
  // Same values from both paths.
  const probes::FeatureExtraction fx = probes::extract_features(s, x, k);
  const double diff = (fx.acts - s.encode(x)).abs().max().item<double>();
  std::printf("  fused vs Sae::encode: max |Δ| %.2g\n", diff);

  for (int i = 0; i < 3; ++i) gemms(), extraction(), straightforward();  // warm up
  std::vector<double> tg, te, ts, ratio;
  volatile float sink = 0;
  for (int r = 0; r < reps; ++r) {
    const double g = time_once([&] { sink = sink + gemms(); });
    const double e = time_once([&] { sink = sink + extraction(); });
    const double t = time_once([&] { sink = sink + straightforward(); });
    tg.push_back(g);
    te.push_back(e);
    ts.push_back(t);
    ratio.push_back(e / g);
  }
  const double flops = 2.0 * 2.0 * double(positions) * double(d_in) * double(d_sae);
  std::printf("  GEMMs alone (x·W_enc, f·W_dec):        %8.2f ms  (%.0f GFLOP/s)\n",
              1e3 * median(tg), flops / median(tg) / 1e9);
  std::printf("  extraction (probes/sae_extract.h):      %8.2f ms\n", 1e3 * median(te));
  std::printf("  straightforward (encode/decode/topk):   %8.2f ms\n", 1e3 * median(ts));
  std::printf("  extraction / GEMMs: %.3f (median of ratios %.3f; target <= 1.2: %s)\n",
              median(te) / median(tg), median(ratio), median(ratio) <= 1.2 ? "met" : "MISSED");
  std::printf("  straightforward / GEMMs: %.3f\n", median(ts) / median(tg));

  // Where the time goes.
  const at::Tensor acts = fx.acts;
  const double t_enc = median_seconds(reps, [&] { mechscope::addmm(s.b_enc, x, s.W_enc).relu_(); });
  const double t_dec =
      median_seconds(reps, [&] { mechscope::addmm(s.b_dec, acts, s.W_dec).sub_(x); });
  const double t_norm = median_seconds(reps, [&] {
    const at::Tensor d = x - s.b_dec;
    (d.norm(2, 1) / x.norm(2, 1)).data_ptr<float>();
  });
  const double t_rowk = median_seconds(reps, [&] { probes::row_top_k(acts, k, false); });
  const double t_topk = median_seconds(reps, [&] { acts.topk(k, 1); });
  std::printf("  steps: addmm+relu_ %.2f ms, addmm+sub_ %.2f ms, norms %.2f ms, row_top_k %.2f ms "
              "(at::topk %.2f ms)\n",
              1e3 * t_enc, 1e3 * t_dec, 1e3 * t_norm, 1e3 * t_rowk, 1e3 * t_topk);
  return sink == 12345.f ? 1 : 0;
}
