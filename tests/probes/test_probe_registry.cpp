// The probe registry, option resolution, input checks and Result stamping (probes/registry.h,
// probes/options.h, probes/run_probe.h), on the tiny golden GPT-2 and the default text model.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "tests/error_of.h"
#include "core/io/safetensors.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/util/error.h"
#include "probes/options.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/test_paths.h"

namespace mechscope::test {
namespace {

probes::ProbeInputs gpt2_inputs() {
  probes::ProbeInputs in;
  in.tokens = {14, 95, 96, 87, 111, 10, 114};
  in.corrupt_tokens = std::vector<int64_t>{14, 95, 55, 87, 48, 10, 114};
  in.answer_id = 75;
  in.wrong_id = 98;
  return in;
}

}  // namespace

TEST_CASE("the registry lists every built-in probe once, with its contract", "[probes]") {
  const auto registry = probes::ProbeRegistry::builtin();
  const auto names = registry.names();
  for (const char* n : {"attention", "logit_lens", "logit_attribution", "activation_patching",
                        "attribution_patching", "path_patching"})
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  CHECK_THAT(error_of([&] { registry.get("nope"); }),
             Catch::Contains("No probe named 'nope'") && Catch::Contains("path_patching"));
  auto copy = registry;
  CHECK_THAT(error_of([&] { copy.add(registry.shared("attention")); }),
             Catch::Contains("already registered"));

  const nlohmann::json j = registry.get("activation_patching").info().to_json();
  CHECK(j["inputs"][1]["name"] == "corrupt");
  CHECK(j["inputs"][1]["required"] == true);
  CHECK(j["options"]["properties"]["target"]["default"] == "resid_pre");
  CHECK(j["options"]["properties"]["metric"]["enum"].size() == 4);
  CHECK(j["arrays"][0]["name"] == "effect");
  CHECK(j["options"]["properties"]["sae"]["format"] == "folder");
  for (const auto& spec : probes::options_from_schema(j["options"]))  // round trip
    CHECK(spec.path == (spec.name == "sae" ? "folder" : ""));
  CHECK(registry.get("logit_lens").info().to_json()["inputs"][1]["required"] == false);
}

TEST_CASE("options are typed, ranged and checked against the probe's schema", "[probes]") {
  const auto registry = probes::ProbeRegistry::builtin();
  const auto& info = registry.get("activation_patching").info();
  using probes::parse_option_text;
  using probes::resolve_options;
  const nlohmann::json r = resolve_options(info.options, {{"target", "z"}});
  CHECK(r == nlohmann::json({{"target", "z"}, {"per_position", false}, {"metric", "logit_diff"},
                             {"top_k", 5}, {"sae", ""}}));
  CHECK_THAT(error_of([&] { resolve_options(info.options, {{"target", "x"}}); }),
             Catch::Contains("allowed values are resid_pre, resid_mid"));
  CHECK_THAT(error_of([&] { resolve_options(info.options, {{"top_k", 0}}); }),
             Catch::Contains("[1, 100]"));
  CHECK_THAT(error_of([&] { resolve_options(info.options, {{"colour", 1}}); }),
             Catch::Contains("this probe takes: target, per_position, metric, top_k, sae"));
  CHECK(parse_option_text(info.options, "per_position", "true") == true);
  CHECK(parse_option_text(info.options, "top_k", "7") == 7);
  CHECK_THAT(error_of([&] { parse_option_text(info.options, "top_k", "seven"); }),
             Catch::Contains("integer"));
  CHECK_THAT(error_of([&] { parse_option_text(info.options, "metric", "loss"); }),
             Catch::Contains("logit_diff, logprob, prob, normalized"));
}

TEST_CASE("run_probe names missing inputs, mismatched lengths and bad answers", "[probes]") {
  auto model = load_model(golden_dir() / "models" / "gpt2");
  const auto registry = probes::ProbeRegistry::builtin();
  const auto& patching = registry.get("activation_patching");
  probes::ProbeInputs in = gpt2_inputs();
  in.corrupt_tokens.reset();
  CHECK_THAT(error_of([&] { probes::run_probe(patching, *model, in); }),
             Catch::Contains("needs: corrupt (--corrupt TEXT or --corrupt-tokens IDS)"));
  in.corrupt_tokens = std::vector<int64_t>{1, 2, 3};
  CHECK_THAT(error_of([&] { probes::run_probe(patching, *model, in); }),
             Catch::Contains("corrupted prompt has 3 tokens and the prompt 7"));
  in = gpt2_inputs();
  in.wrong_id = in.answer_id;
  CHECK_THAT(error_of([&] { probes::run_probe(patching, *model, in); }),
             Catch::Contains("same token"));
  in = gpt2_inputs();
  in.answer_id = 5000;
  CHECK_THAT(error_of([&] { probes::run_probe(patching, *model, in); }),
             Catch::Contains("outside the vocabulary"));
  in = gpt2_inputs();
  CHECK_THAT(error_of([&] {
               probes::run_probe(registry.get("path_patching"), *model, in,
                                 {{"receivers", "L1H9"}});
             }),
             Catch::Contains("Head L1H9 does not exist"));
  CHECK_THAT(error_of([&] {
               probes::run_probe(registry.get("path_patching"), *model, in,
                                 {{"receivers", "L0H1"}});
             }),
             Catch::Contains("no earlier sender"));
  CHECK_THAT(error_of([&] {
               probes::run_probe(registry.get("logit_attribution"), *model, in,
                                 {{"position", 7}});
             }),
             Catch::Contains("outside the prompt's 7 tokens"));
  CHECK_THAT(error_of([&] { probes::run_probe(patching, *model, in, {{"target", "neuron"}}); }),
             Catch::Contains("allowed values"));
  CHECK_THAT(error_of([&] {
               probes::run_probe(patching, *model, in, {{"target", "resid_pre"},
                                                        {"per_position", true}});
             }),
             Catch::Contains("per_position applies to the head targets"));
}

TEST_CASE("an answer given as text must be one token of the tokenizer", "[probes]") {
  auto model = load_model(default_model_path());
  probes::ProbeInputs in;
  in.tokens = model->tokenizer()->encode("When Mary and John went to the store , John gave a drink to", true).ids;
  in.answer = "Mary John";
  const auto registry = probes::ProbeRegistry::builtin();
  const auto& dla = registry.get("logit_attribution");
  CHECK_THAT(error_of([&] { probes::run_probe(dla, *model, in); }),
             Catch::Contains("The answer 'Mary John' is 2 tokens, not one: 'Mary'"));
  in.answer = "Mary";
  in.wrong = "John";
  const Result r = probes::run_probe(dla, *model, in);
  CHECK(r.meta["inputs"]["answer_id"] == model->tokenizer()->encode("Mary", false).ids[0]);
  CHECK(r.meta["inputs"]["wrong"] == "John");
}

TEST_CASE("every Result is stamped: probe, id, title, options, inputs, model", "[probes]") {
  auto model = load_model(golden_dir() / "models" / "gpt2");
  const auto registry = probes::ProbeRegistry::builtin();
  const auto& probe = registry.get("activation_patching");
  probes::ProbeInputs in = gpt2_inputs();
  in.prompt = "seven random tokens";
  const Result r = probes::run_probe(probe, *model, in, {{"metric", "normalized"}});
  CHECK(r.probe == "activation_patching");
  CHECK(r.id == "activation_patching-1");
  CHECK_THAT(r.title, Catch::StartsWith("Activation patching (resid_pre) — seven random"));
  CHECK(r.meta["probe"] == "activation_patching");
  CHECK(r.meta["options"]["metric"] == "normalized");
  CHECK(r.meta["inputs"]["corrupt_tokens"].size() == 7);
  CHECK(r.meta["model"]["name"] == "gpt2");
  CHECK(r.meta["clean_metric"] == 1.0);
  CHECK(r.meta["corrupted_metric"] == 0.0);
  // Normalised: patching the whole last-layer residual at the last position restores the clean
  // run (1); positions where the prompts agree and nothing earlier differs change nothing (0).
  const Result post = probes::run_probe(probe, *model, in,
                                        {{"metric", "normalized"}, {"target", "resid_post"}});
  const Array& e = post.array("effect");
  CHECK(e.at({1, 6}) == Approx(1.0).margin(1e-4));
  CHECK(e.at({0, 0}) == Approx(0.0).margin(1e-4));
  CHECK(e.at({0, 1}) == Approx(0.0).margin(1e-4));
  CHECK(e.axes[0].labels == std::vector<std::string>{"L0", "L1"});
  CHECK(e.axes[1].name == "position");
  CHECK(post.meta["token_strings"].size() > 0);
}

TEST_CASE("probes stop when progress asks them to", "[probes]") {
  auto model = load_model(golden_dir() / "models" / "gpt2");
  const auto registry = probes::ProbeRegistry::builtin();
  for (const char* name : {"activation_patching", "attribution_patching", "path_patching",
                           "logit_attribution", "logit_lens", "attention"}) {
    int calls = 0;
    const probes::Progress stop_later = [&](double) { return ++calls < 2; };
    CHECK_THROWS_AS(probes::run_probe(registry.get(name), *model, gpt2_inputs(), nullptr,
                                      stop_later),
                    Cancelled);
  }
}

TEST_CASE("attribution patching compared with activation patching", "[probes]") {
  auto model = load_model(golden_dir() / "models" / "gpt2");
  const auto registry = probes::ProbeRegistry::builtin();
  const auto& probe = registry.get("attribution_patching");
  const Result r = probes::run_probe(probe, *model, gpt2_inputs(),
                                     {{"target", "z"}, {"compare", true}});
  REQUIRE(r.arrays.count("activation_effect") == 1);
  // The real effect is activation patching's, as a change from the corrupted metric.
  const SafetensorsFile golden(golden_dir() / "probes" / "gpt2" / "probes.safetensors");
  const at::Tensor want = golden.tensor("activation_patching/z", at::kFloat) -
                          golden.tensor("metric/corrupted", at::kFloat);
  const Array& got = r.array("activation_effect");
  REQUIRE(got.shape == std::vector<int64_t>{2, 4});
  CHECK((at::tensor(got.data).view({2, 4}) - want).abs().max().item<double>() <= 1e-4);
  // And the correlation is Pearson's r of the two arrays.
  const at::Tensor x = at::tensor(r.array("effect").data, at::kDouble);
  const at::Tensor y = at::tensor(got.data, at::kDouble);
  const at::Tensor xc = x - x.mean(), yc = y - y.mean();
  const double pearson =
      ((xc * yc).sum() / ((xc * xc).sum() * (yc * yc).sum()).sqrt()).item<double>();
  CHECK(r.meta["correlation"].get<double>() == Approx(pearson).margin(1e-6));
}

}  // namespace mechscope::test
