// activation_patching with target=sae_feature: each (position, latent) patched alone equals a
// hand-made run with that latent set to its clean value; unchanged cells equal the corrupted run.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>

#include "core/model/loader.h"
#include "core/model/model.h"
#include "core/sae/sae_hooks.h"
#include "core/sae/sae_io.h"
#include "core/util/error.h"
#include "probes/metric.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/core/model_test_utils.h"
#include "tests/sae_test_utils.h"

using namespace mechscope;

namespace {

const std::vector<int64_t> kClean = {14, 95, 96, 87, 111, 10, 114};
const std::vector<int64_t> kCorrupt = {14, 95, 55, 87, 48, 10, 114};

/// The metric of the corrupted run with latent `j` at position `p` set to `value`.
double patched_by_hand(const Model& model, const sae::Sae& s, int64_t p, int64_t j, float value,
                       probes::Metric& metric) {
  HookSet hooks;
  sae::SpliceOptions keep;
  keep.error_term = true;
  sae::add_splice(hooks, std::make_shared<sae::Sae>(s), keep,
                  [&](at::Tensor& f) { f.index_put_({0, p, j}, value); });
  const ForwardOutput out =
      model.run(at::tensor(kCorrupt, at::kLong).view({1, -1}), {}, &hooks);
  return metric(probes::last_position(out.logits)).item<double>();
}

/// The IOI-like golden-model inputs both patching tests use.
probes::ProbeInputs patching_inputs() {
  probes::ProbeInputs in;
  in.tokens = kClean;
  in.corrupt_tokens = kCorrupt;
  in.answer_id = 75;
  in.wrong_id = 98;
  return in;
}

/// The SAE's latents [pos, d_sae] at its hook on an unspliced run of `tokens`.
at::Tensor latents(const Model& model, const sae::Sae& s, const std::vector<int64_t>& tokens) {
  at::Tensor acts;
  HookSet hooks;
  hooks.add(s.cfg.hook_name, [&](HookCall& h) { acts = s.encode(h.value)[0].clone(); });
  model.run(at::tensor(tokens, at::kLong).view({1, -1}), {}, &hooks);
  return acts;
}

}  // namespace

TEST_CASE("activation patching of SAE features matches hand-made patched runs", "[sae][patching]") {
  c10::InferenceMode guard;
  auto model = load_model(test::golden_model("gpt2"));
  const auto dir = test::scratch_path("sae_patching");
  std::filesystem::remove_all(dir);
  const sae::Sae s = test::random_sae("blocks.1.hook_resid_pre", 32, 24, 7);
  sae::save_sae(s, dir);

  const probes::ProbeInputs in = patching_inputs();
  const auto& probe = probes::ProbeRegistry::builtin().get("activation_patching");
  const Result r = probes::run_probe(probe, *model, in,
                                     {{"target", "sae_feature"}, {"sae", dir.string()}});
  const Array& effect = r.array("effect");
  REQUIRE(effect.shape == std::vector<int64_t>{7, 24});
  CHECK(effect.axes[0].name == "position");
  CHECK(effect.axes[1].name == "latent");
  CHECK(r.array("top_token").shape == std::vector<int64_t>{7, 24, 5});
  CHECK(r.meta["target"] == "sae_feature");
  CHECK(r.meta["sae"]["hook"] == "blocks.1.hook_resid_pre");

  // The latents of both runs, to know which cells change.
  const at::Tensor fc = latents(*model, s, kClean), fx = latents(*model, s, kCorrupt);
  probes::Metric metric("logit_diff", in);
  const double corrupted = r.meta["corrupted_metric"].get<double>();
  int64_t changed = 0, checked = 0;
  for (int64_t p = 0; p < 7; ++p)
    for (int64_t j = 0; j < 24; ++j) {
      const float e = effect.at({p, j});
      if (fc[p][j].item<float>() == fx[p][j].item<float>()) {
        CHECK(e == Approx(corrupted).margin(1e-5));  // nothing to patch
        continue;
      }
      ++changed;
      if (checked++ % 3 != 0) continue;  // every third changed cell by hand
      CHECK(e == Approx(patched_by_hand(*model, s, p, j, fc[p][j].item<float>(), metric))
                     .margin(1e-4));
    }
  CHECK(changed > 10);  // positions 2… differ: a real sweep
  CHECK(r.meta["patched_cells"] == changed);
  // A patch at the first position (same token in both prompts) changes nothing.
  for (int64_t j = 0; j < 24; ++j) CHECK(effect.at({0, j}) == Approx(corrupted).margin(1e-5));

  // Without an SAE, or with one that does not fit, the error names what is wrong.
  CHECK_THROWS_WITH(probes::run_probe(probe, *model, in, {{"target", "sae_feature"}}),
                    Catch::Contains("give option sae=DIR"));
  const auto wide = test::scratch_path("sae_patching_wide");
  sae::save_sae(test::random_sae("blocks.1.hook_resid_pre", 48, 8, 1), wide);
  CHECK_THROWS_WITH(
      probes::run_probe(probe, *model, in, {{"target", "sae_feature"}, {"sae", wide.string()}}),
      Catch::Contains("d_in 48") && Catch::Contains("holds 32"));
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(wide);
}

TEST_CASE("a spliced SAE reaches every probe and is recorded in the Result", "[sae]") {
  c10::InferenceMode guard;
  auto model = load_model(test::golden_model("gpt2"));
  const auto s = std::make_shared<sae::Sae>(test::random_sae("blocks.0.hook_resid_post", 32, 40, 3));
  const at::Tensor tokens = at::tensor(kClean, at::kLong).view({1, -1});
  const at::Tensor clean = model->forward(tokens);

  sae::SpliceOptions replace;
  sae::splice_into(*model, s, replace, "my-sae");
  at::Tensor seen;
  HookSet probe_hooks;  // a probe's own hooks run after the standing splice
  probe_hooks.add("blocks.0.hook_resid_post", [&](HookCall& h) { seen = h.value.clone(); });
  const at::Tensor spliced = model->run(tokens, {}, &probe_hooks).logits;
  at::Tensor x;
  HookSet raw;
  model->set_standing_hooks(nullptr);
  raw.add("blocks.0.hook_resid_post", [&](HookCall& h) { x = h.value.clone(); });
  model->run(tokens, {}, &raw);
  CHECK(test::max_abs_diff(seen, s->reconstruct(x)) < 1e-6);
  CHECK(test::max_abs_diff(spliced, clean) > 1e-3);  // the reconstruction changes the output

  sae::SpliceOptions with_error;
  with_error.error_term = true;
  with_error.steer = {{5, 2.0}};
  sae::splice_into(*model, s, with_error, "my-sae");
  const auto& lens = probes::ProbeRegistry::builtin().get("logit_lens");
  probes::ProbeInputs in;
  in.tokens = kClean;
  const Result r = probes::run_probe(lens, *model, in);
  CHECK(r.meta["standing_hooks"]["sae"] == "my-sae");
  CHECK(r.meta["standing_hooks"]["error_term"] == true);
  CHECK(r.meta["standing_hooks"]["steer"] == nlohmann::json::parse("[[5, 2.0]]"));
  at::Tensor steered;
  HookSet after;
  after.add("blocks.0.hook_resid_post", [&](HookCall& h) { steered = h.value.clone(); });
  model->run(tokens, {}, &after);
  CHECK(test::max_abs_diff(steered, x + 2.0 * s->W_dec[5]) < 1e-5);

  sae::SpliceOptions bad;
  bad.steer = {{40, 1.0}};
  CHECK_THROWS_WITH(sae::splice_into(*model, s, bad, "my-sae"), Catch::Contains("no feature 40"));
  sae::splice_into(*model, nullptr, {}, "");
  CHECK(model->standing_hooks() == nullptr);
  CHECK(test::max_abs_diff(model->forward(tokens), clean) == 0.0);
}

TEST_CASE("attribution patching of SAE features is the gradient estimate of their patching",
          "[sae][patching]") {
  auto model = load_model(test::golden_model("gpt2"));
  const auto dir = test::scratch_path("sae_attribution");
  std::filesystem::remove_all(dir);
  const sae::Sae s = test::random_sae("blocks.1.hook_resid_pre", 32, 24, 7);
  sae::save_sae(s, dir);
  const probes::ProbeInputs in = patching_inputs();
  const auto& probe = probes::ProbeRegistry::builtin().get("attribution_patching");
  const Result r = probes::run_probe(
      probe, *model, in, {{"target", "sae_feature"}, {"sae", dir.string()}, {"compare", true}});
  const Array& effect = r.array("effect");
  REQUIRE(effect.shape == std::vector<int64_t>{7, 24});
  CHECK(r.array("activation_effect").shape == std::vector<int64_t>{7, 24});
  CHECK(r.meta["correlation"].is_number());

  c10::InferenceMode guard;
  const at::Tensor fc = latents(*model, s, kClean), fx = latents(*model, s, kCorrupt);
  probes::Metric metric("logit_diff", in);
  const double corrupted = r.meta["corrupted_metric"].get<double>();
  int checked = 0;
  for (int64_t p = 0; p < 7; ++p)
    for (int64_t j = 0; j < 24; ++j) {
      const float a = fc[p][j].item<float>(), b = fx[p][j].item<float>();
      if (a == b) {
        CHECK(effect.at({p, j}) == 0.0f);  // nothing to move
        continue;
      }
      if (checked++ % 4 != 0) continue;
      // (m(b + δ(a − b)) − m(b)) / δ → (a − b) · ∂m/∂f as δ → 0.
      const double delta = 1e-2;
      const double slope =
          (patched_by_hand(*model, s, p, j, b + float(delta) * (a - b), metric) - corrupted) /
          delta;
      CHECK(effect.at({p, j}) == Approx(slope).epsilon(0.05).margin(2e-3));
    }
  CHECK(checked > 10);
  std::filesystem::remove_all(dir);
}
