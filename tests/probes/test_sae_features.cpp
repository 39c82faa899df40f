// The sae_features probe on the default text model with random SAEs saved as SAELens folders:
// contract shapes, latents equal to Sae::encode of the cached activation, the reconstruction
// error's formula, top lists, decoder tokens against a direct computation, examples against
// solo runs, the forward pass stopped at the hook, and SAEs that do not fit.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/error_of.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/sae/sae.h"
#include "core/sae/sae_io.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "probes/position_roles.h"
#include "tests/test_paths.h"

namespace mechscope::test {
namespace {

namespace fs = std::filesystem;

const probes::Probe& sae_probe() { return probes::ProbeRegistry::builtin().get("sae_features"); }

/// A random SAE whose latents are about half active on the default model's activations.
sae::Sae random_sae(const std::string& hook, int64_t d_in, int64_t d_sae,
                    sae::Architecture arch = sae::Architecture::Standard, uint64_t seed = 1) {
  at::manual_seed(seed);
  sae::Sae s;
  s.cfg.architecture = arch;
  s.cfg.hook_name = hook;
  s.cfg.d_in = d_in;
  s.cfg.d_sae = d_sae;
  s.cfg.k = arch == sae::Architecture::TopK ? 12 : 0;
  s.W_enc = at::randn({d_in, d_sae}) / std::sqrt(double(d_in));
  s.W_dec = at::randn({d_sae, d_in}) / std::sqrt(double(d_sae));
  s.b_enc = at::randn({d_sae}) * 0.1;
  s.b_dec = at::randn({d_in}) * 0.05;
  if (arch == sae::Architecture::JumpReLU) s.threshold = at::rand({d_sae}) * 0.5;
  return s;
}

/// `s` saved to a fresh folder under the test's scratch path.
std::string saved(const sae::Sae& s, const std::string& name) {
  const fs::path dir = scratch_path("sae_features") / name;
  fs::remove_all(dir);
  sae::save_sae(s, dir);
  return dir.string();
}

probes::ProbeInputs prompt(const Model& model) {
  probes::ProbeInputs in;
  in.prompt = "When Mary and John went to the store , John gave a drink to";
  in.tokens = model.tokenizer()->encode(in.prompt, true).ids;
  return in;
}

at::Tensor tensor_of(const Array& a) {
  return at::from_blob(const_cast<float*>(a.data.data()), a.shape, at::kFloat).clone();
}

/// The SAE's input [pos, d_in] at its hook, from run_with_cache (per-head points flattened).
at::Tensor cached_input(const Model& model, const sae::Sae& s, const std::vector<int64_t>& tokens) {
  const auto cache = model.run_with_cache(at::tensor(tokens, at::kLong).view({1, -1}), {},
                                          [&](const std::string& n) { return n == s.cfg.hook_name; });
  const at::Tensor a = cache.at(s.cfg.hook_name)[0];
  return a.reshape({a.size(0), s.cfg.d_in});
}

}  // namespace

TEST_CASE("sae_features: latents, error and top lists equal the SAE's own arithmetic",
          "[sae_features]") {
  c10::InferenceMode guard;
  auto model = load_model(default_model_path());
  const auto in = prompt(*model);
  const int64_t T = int64_t(in.tokens.size());
  const sae::Sae s = random_sae("blocks.2.hook_resid_pre", 128, 256);
  const Result r = probes::run_probe(sae_probe(), *model, in, {{"sae", saved(s, "resid")}});

  CHECK(r.array("feature_acts").shape == std::vector<int64_t>{T, 256});
  CHECK(r.array("feature_acts").axes[0].labels.size() == size_t(T));
  CHECK(r.array("reconstruction_error").shape == std::vector<int64_t>{T});
  CHECK(r.array("top_features").shape == std::vector<int64_t>{T, 10});
  CHECK(r.array("top_values").shape == std::vector<int64_t>{T, 10});
  CHECK(r.meta["hook"] == "blocks.2.hook_resid_pre");
  CHECK(r.meta["architecture"] == "standard");
  CHECK(r.meta["d_sae"] == 256);

  const at::Tensor x = cached_input(*model, s, in.tokens);
  const at::Tensor want = s.encode(x);
  const at::Tensor acts = tensor_of(r.array("feature_acts"));
  CHECK((acts - want).abs().max().item<double>() <= 1e-5);
  const double active = (want > 0).to(at::kFloat).mean().item<double>();
  CHECK(active > 0.2);  // a meaningful test: many latents fire
  CHECK(active < 0.8);

  const at::Tensor err = tensor_of(r.array("reconstruction_error"));
  const at::Tensor want_err = (x - s.decode(want, x)).norm(2, 1) / x.norm(2, 1);
  CHECK((err - want_err).abs().max().item<double>() <= 1e-5);

  const Array& ids = r.array("top_features");
  const Array& vals = r.array("top_values");
  for (int64_t p = 0; p < T; ++p) {
    for (int64_t k = 0; k < 10; ++k) {
      const int64_t f = int64_t(ids.at({p, k}));
      CHECK(vals.at({p, k}) == acts[p][f].item<float>());
      if (k > 0) CHECK(vals.at({p, k}) <= vals.at({p, k - 1}));
    }
    // Nothing outside the list beats its last entry.
    at::Tensor rest = acts[p].clone();
    for (int64_t k = 0; k < 10; ++k) rest[int64_t(ids.at({p, k}))] = -1e30;
    CHECK(rest.max().item<float>() <= vals.at({p, 9}));
  }

  // The detail features: every positive listed latent (≤ 64), strongest first, decoded through
  // the final norm's gain (RMSNorm: × γ) and the unembedding.
  const Array& fids = r.array("feature_ids");
  std::set<int64_t> listed;
  for (int64_t i = 0; i < vals.numel(); ++i)
    if (vals.data[i] > 0) listed.insert(int64_t(ids.data[i]));
  CHECK(fids.shape[0] == std::min<int64_t>(64, int64_t(listed.size())));
  CHECK(r.meta["detail_features"] == fids.shape[0]);
  const at::Tensor peak = std::get<0>(acts.max(0));
  for (int64_t i = 0; i < fids.shape[0]; ++i) {
    CHECK(listed.count(int64_t(fids.data[i])) == 1);
    if (i > 0) CHECK(peak[int64_t(fids.data[i])].item<float>() <= peak[int64_t(fids.data[i - 1])].item<float>());
  }
  REQUIRE(r.array("feature_logit_tokens").shape == std::vector<int64_t>{fids.shape[0], 10});
  const Weights& w = model->weights();
  for (int64_t i = 0; i < fids.shape[0]; i += 7) {
    const at::Tensor logits = at::matmul(s.W_dec[int64_t(fids.data[i])] * w.lnf_w, w.unembed_w.t());
    auto [top, tok] = logits.topk(10);
    for (int64_t k = 0; k < 10; ++k) {
      CHECK(r.array("feature_logit_tokens").at({i, k}) == float(tok[k].item<int64_t>()));
      CHECK(std::abs(r.array("feature_logit_values").at({i, k}) - top[k].item<float>()) <= 1e-4);
    }
  }
  const std::string first = std::to_string(int64_t(r.array("feature_logit_tokens").at({0, 0})));
  CHECK(r.meta["token_strings"].contains(first));
  CHECK(r.arrays.count("example_acts") == 0);  // no examples asked for
}

TEST_CASE("sae_features: hook_z SAEs read heads flattened and decode through W_O; other "
          "architectures", "[sae_features]") {
  c10::InferenceMode guard;
  auto model = load_model(default_model_path());
  const auto in = prompt(*model);
  const Weights& w = model->weights();
  {
    const sae::Sae s = random_sae("blocks.1.attn.hook_z", 128, 96);  // 4 heads × 32
    const Result r = probes::run_probe(sae_probe(), *model, in,
                                       {{"sae", saved(s, "z")}, {"through_norm", false}});
    const at::Tensor x = cached_input(*model, s, in.tokens);
    CHECK((tensor_of(r.array("feature_acts")) - s.encode(x)).abs().max().item<double>() <= 1e-5);
    // W_dec[f] · W_O (TransformerLens [heads, d_head, d_model] flattened) · W_U, no norm gain.
    const at::Tensor W_O = model->weight("blocks.1.attn.W_O").reshape({128, 128});
    const int64_t f = int64_t(r.array("feature_ids").data[0]);
    auto [top, tok] = at::matmul(at::matmul(s.W_dec[f], W_O), w.unembed_w.t()).topk(10);
    for (int64_t k = 0; k < 10; ++k) {
      CHECK(r.array("feature_logit_tokens").at({0, k}) == float(tok[k].item<int64_t>()));
      CHECK(std::abs(r.array("feature_logit_values").at({0, k}) - top[k].item<float>()) <= 1e-4);
    }
  }
  // JumpReLU (fused path), TopK and a layer_norm-normalised SAE (Sae::encode's path).
  for (auto arch : {sae::Architecture::JumpReLU, sae::Architecture::TopK}) {
    const sae::Sae s = random_sae("blocks.3.hook_resid_post", 128, 200, arch, 7);
    const Result r = probes::run_probe(sae_probe(), *model, in,
                                       {{"sae", saved(s, sae::architecture_name(arch))}});
    const at::Tensor x = cached_input(*model, s, in.tokens);
    const at::Tensor want = s.encode(x);
    CHECK((tensor_of(r.array("feature_acts")) - want).abs().max().item<double>() <= 1e-5);
    const at::Tensor want_err = (x - s.decode(want, x)).norm(2, 1) / x.norm(2, 1);
    CHECK((tensor_of(r.array("reconstruction_error")) - want_err).abs().max().item<double>() <= 1e-5);
    if (arch != sae::Architecture::TopK) continue;
    CHECK((want > 0).sum(1).max().item<int64_t>() <= 12);
    // Examples of a topk SAE encode every latent (in row chunks) and keep the detail ones.
    const Result e = probes::run_probe(
        sae_probe(), *model, in,
        {{"sae", saved(s, "topk_examples")}, {"examples_task", "induction"}, {"examples", 4},
         {"detail_features", 2}});
    const auto prompts = probes::task_prompts(*model, "induction", 4, 0);
    for (int64_t i = 0; i < 2; ++i) {
      const int64_t f = int64_t(e.array("feature_ids").data[i]);
      const int64_t ex = int64_t(e.array("example_index").at({i, 0}));
      const at::Tensor solo = s.encode(cached_input(*model, s, prompts[ex].tokens));
      CHECK(std::abs(e.array("example_acts").at({i, 0}) - solo.select(1, f).max().item<float>()) <= 1e-4);
    }
  }
  sae::Sae s = random_sae("blocks.0.hook_mlp_out", 128, 64, sae::Architecture::Standard, 3);
  s.cfg.normalize_activations = "layer_norm";
  s.cfg.apply_b_dec_to_input = true;
  const Result r = probes::run_probe(sae_probe(), *model, in, {{"sae", saved(s, "ln")}});
  const at::Tensor x = cached_input(*model, s, in.tokens);
  const at::Tensor want = s.encode(x);
  CHECK((tensor_of(r.array("feature_acts")) - want).abs().max().item<double>() <= 1e-5);
  const at::Tensor want_err = (x - s.decode(want, x)).norm(2, 1) / x.norm(2, 1);
  CHECK((tensor_of(r.array("reconstruction_error")) - want_err).abs().max().item<double>() <= 1e-5);
}

TEST_CASE("sae_features: the forward pass stops at the SAE's hook", "[sae_features]") {
  c10::InferenceMode guard;
  auto model = load_model(default_model_path());
  int before = 0, after = 0;
  auto hooks = std::make_shared<HookSet>();
  hooks->add("blocks.1.hook_resid_post", [&](HookCall&) { ++before; });
  hooks->add("blocks.2.hook_resid_post", [&](HookCall&) { ++after; });
  model->set_standing_hooks(hooks);
  const sae::Sae s = random_sae("blocks.2.hook_resid_pre", 128, 32);
  probes::run_probe(sae_probe(), *model, prompt(*model), {{"sae", saved(s, "stop")}});
  CHECK(before == 1);
  CHECK(after == 0);
}

TEST_CASE("sae_features: top-activating examples from a task and from a file of prompts",
          "[sae_features]") {
  c10::InferenceMode guard;
  auto model = load_model(default_model_path());
  const sae::Sae s = random_sae("blocks.2.hook_resid_pre", 128, 128);
  const std::string dir = saved(s, "examples");
  const Result r = probes::run_probe(
      sae_probe(), *model, prompt(*model),
      {{"sae", dir}, {"examples_task", "ioi"}, {"examples", 12}, {"top_examples", 5},
       {"detail_features", 6}});
  const int64_t F = r.array("feature_ids").shape[0];
  REQUIRE(F == 6);
  REQUIRE(r.array("example_acts").shape == std::vector<int64_t>{F, 5});
  REQUIRE(r.array("example_index").shape == std::vector<int64_t>{F, 5});
  REQUIRE(r.array("example_position").shape == std::vector<int64_t>{F, 5});
  REQUIRE(r.meta["examples"].size() == 12);
  REQUIRE(r.meta["example_tokens"].size() == 12);
  // Each example's peak, recomputed alone (no padding) through run_with_cache and Sae::encode.
  std::vector<at::Tensor> solo;  // [pos, d_sae] per example
  for (const auto& ex : probes::task_prompts(*model, "ioi", 12, 0)) {
    CHECK(r.meta["example_tokens"][solo.size()].size() == ex.tokens.size());
    solo.push_back(s.encode(cached_input(*model, s, ex.tokens)));
  }
  for (int64_t i = 0; i < F; ++i) {
    const int64_t f = int64_t(r.array("feature_ids").data[i]);
    std::vector<float> peaks;
    for (const auto& a : solo) peaks.push_back(a.select(1, f).max().item<float>());
    std::vector<float> sorted = peaks;
    std::sort(sorted.rbegin(), sorted.rend());
    for (int64_t m = 0; m < 5; ++m) {
      const int64_t e = int64_t(r.array("example_index").at({i, m}));
      const int64_t p = int64_t(r.array("example_position").at({i, m}));
      CHECK(std::abs(r.array("example_acts").at({i, m}) - sorted[m]) <= 1e-4);
      CHECK(std::abs(peaks[e] - sorted[m]) <= 1e-4);
      CHECK(std::abs(solo[e][p][f].item<float>() - peaks[e]) <= 1e-4);
    }
  }

  // A file: blank lines skipped, `examples` lines read.
  const fs::path file = scratch_path("sae_features") / "prompts.txt";
  std::ofstream(file) << "Mary and John went to the store\n\nthe cat sat on the mat\nJohn gave a drink to Mary\n";
  const Result f = probes::run_probe(
      sae_probe(), *model, prompt(*model),
      {{"sae", dir}, {"examples_prompts", file.string()}, {"examples", 2}, {"detail_features", 3}});
  CHECK(f.meta["examples"] == nlohmann::json({"Mary and John went to the store", "the cat sat on the mat"}));
  CHECK(f.array("example_acts").shape == std::vector<int64_t>{3, 2});
  CHECK_THAT(error_of([&] {
               probes::run_probe(sae_probe(), *model, prompt(*model),
                                 {{"sae", dir}, {"examples_prompts", "/nonexistent/p.txt"}});
             }),
             Catch::Contains("/nonexistent/p.txt"));
  CHECK_THAT(error_of([&] {
               probes::run_probe(sae_probe(), *model, prompt(*model),
                                 {{"sae", dir}, {"examples_prompts", file.string()},
                                  {"examples_task", "ioi"}});
             }),
             Catch::Contains("not both"));
  fs::remove_all(scratch_path("sae_features"));
}

TEST_CASE("sae_features: an SAE that does not fit the model is named with the model's width",
          "[sae_features]") {
  c10::InferenceMode guard;
  auto model = load_model(default_model_path());
  const auto in = prompt(*model);
  const std::string wide = saved(random_sae("blocks.2.hook_resid_pre", 100, 16), "wide");
  CHECK_THAT(error_of([&] { probes::run_probe(sae_probe(), *model, in, {{"sae", wide}}); }),
             Catch::Contains("blocks.2.hook_resid_pre") && Catch::Contains("d_in 100") &&
                 Catch::Contains("128"));
  const std::string deep = saved(random_sae("blocks.9.hook_resid_pre", 128, 16), "deep");
  CHECK_THAT(error_of([&] { probes::run_probe(sae_probe(), *model, in, {{"sae", deep}}); }),
             Catch::Contains("blocks.9.hook_resid_pre") && Catch::Contains("5 layers"));
  const std::string nowhere = saved(random_sae("", 128, 16), "nowhere");
  CHECK_THAT(error_of([&] { probes::run_probe(sae_probe(), *model, in, {{"sae", nowhere}}); }),
             Catch::Contains(nowhere) && Catch::Contains("names no hook point"));
  CHECK_THAT(error_of([&] { probes::run_probe(sae_probe(), *model, in, {}); }),
             Catch::Contains("--option sae=DIR"));
  fs::remove_all(scratch_path("sae_features"));
}

}  // namespace mechscope::test
