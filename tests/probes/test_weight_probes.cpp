// The weight-space probes on the default text model: clamping a neuron raises the token its
// decoding names, the channel edit is exact, agreement of a model with itself, and errors.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>

#include "tests/error_of.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/test_paths.h"

namespace mechscope::test {
namespace {
const probes::Probe& probe(const std::string& name) {
  return probes::ProbeRegistry::builtin().get(name);
}
}  // namespace

TEST_CASE("clamping a neuron raises the probability of its decoded top token",
          "[probes][weights][default_model]") {
  auto model = load_model(default_model_path());
  const Result dec = probes::run_probe(probe("neuron_decoding"), *model, {}, {{"layers", "4"}});
  const Array& top = dec.array("out_top_token");
  const Array& logit = dec.array("out_top_logit");
  // The last layer's neuron with the strongest top logit.
  int64_t best = 0;
  for (int64_t n = 1; n < top.shape[1]; ++n)
    if (logit.at({0, n, 0}) > logit.at({0, best, 0})) best = n;
  const int64_t token = static_cast<int64_t>(top.at({0, best, 0}));
  probes::ProbeInputs in;
  in.prompt = "When Mary and John went to the store , John gave a drink to";
  in.tokens = model->tokenizer()->encode(in.prompt, true).ids;
  in.answer_id = token;
  const Result r = probes::run_probe(probe("neuron_clamp"), *model, in,
                                     {{"layer", 4}, {"neuron", best}, {"value", 20.0},
                                      {"positions", "last"}, {"generate", 3}});
  const double clean = r.meta["answer_prob"]["clean"], clamped = r.meta["answer_prob"]["clamped"];
  WARN("L4N" << best << " decodes to '" << dec.meta["token_strings"][std::to_string(token)].get<std::string>()
             << "': P = " << clean << " clean, " << clamped << " clamped");
  CHECK(clamped > 1000 * clean);
  CHECK(r.array("probs").shape == std::vector<int64_t>{2, 10});
  CHECK(r.meta["continuation"]["clamped"]["tokens"].size() <= 3);
  CHECK_THAT(error_of([&] {
               probes::run_probe(probe("neuron_clamp"), *model, in, {{"neuron", 9999}});
             }),
             Catch::Contains("outside the layer's 384 neurons"));
}

TEST_CASE("the channel edit: factor 1 changes nothing, factor 0 on every component removes the head",
          "[probes][weights]") {
  c10::InferenceMode guard;
  auto model = load_model(golden_dir() / "models" / "gpt2");
  probes::ProbeInputs in;
  in.tokens = {14, 95, 96, 87, 111, 10, 114};
  in.answer_id = 75;
  in.wrong_id = 98;
  const nlohmann::json pair = {{"sender", "L0H1"}, {"receiver", "L1H0"}};
  nlohmann::json same = pair, removed = pair;
  same["scale"] = "0,1,2,3,4,5,6,7:1";
  removed["scale"] = "0,1,2,3,4,5,6,7:0";
  const Result a = probes::run_probe(probe("channels"), *model, in, same);
  CHECK(a.array("metric").data[0] == Approx(a.array("metric").data[1]).margin(1e-5));
  const Result b = probes::run_probe(probe("channels"), *model, in, removed);
  // Every component at 0: M = I − W_V⁺ W_V W_O W_O⁺ = 0 (full-rank factors), so the head's z is
  // zero — the same as zero-ablating it directly.
  HookSet hooks;
  hooks.add(HookKind::Z, 0, [](HookCall& h) {
    at::Tensor z = h.value.clone();
    z.select(2, 1).zero_();
    h.value = z;
  });
  const at::Tensor logits = model->run(at::tensor(in.tokens).unsqueeze(0), {}, &hooks).logits[0][-1];
  CHECK(b.array("metric").data[1] == Approx((logits[75] - logits[98]).item<double>()).margin(1e-4));
  CHECK(b.array("metric").data[0] == Approx(a.array("metric").data[0]).margin(1e-6));
  CHECK_THAT(error_of([&] {
               nlohmann::json bad = pair;
               bad["scale"] = "9:0";
               probes::run_probe(probe("channels"), *model, in, bad);
             }),
             Catch::Contains("not one of 0-7"));
  CHECK_THAT(error_of([&] {
               probes::run_probe(probe("channels"), *model, in,
                                 {{"sender", "L1H0"}, {"receiver", "L0H1"}});
             }),
             Catch::Contains("earlier layer"));
}

TEST_CASE("neuron agreement of a checkpoint with itself and with another shape",
          "[probes][weights]") {
  auto model = load_model(golden_dir() / "models" / "gpt2");
  const std::string self = (golden_dir() / "models" / "gpt2").string();
  const Result r = probes::run_probe(probe("neuron_agreement"), *model, {}, {{"other", self}});
  CHECK(r.array("agreement").data == std::vector<float>{1.0f, 1.0f});
  const std::string other = (golden_dir() / "models" / "llama_gqa").string();
  CHECK_THAT(error_of([&] {
               probes::run_probe(probe("neuron_agreement"), *model, {}, {{"other", other}});
             }),
             Catch::Contains("has another shape"));
  CHECK_THAT(error_of([&] { probes::run_probe(probe("neuron_agreement"), *model, {}, {}); }),
             Catch::Contains("--option other=PATH"));
}

}  // namespace mechscope::test
