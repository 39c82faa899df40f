// sae_circuit (discrete-SAE circuit finding, O'Neill & Bui 2024): ROC-AUC and code counts by
// hand, the probe on the default text model (contract shapes, softmax, determinism, the AUC
// against activation patching) and its refusals.
#include <ATen/ATen.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <set>

#include "tests/error_of.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/util/error.h"
#include "probes/circuit_codes.h"
#include "probes/discrete_sae.h"
#include "probes/registry.h"
#include "probes/roc.h"
#include "probes/run_probe.h"
#include "probes/tasks/task.h"

namespace mechscope::test {
namespace {

Result run_sae_circuit(const Model& m, const nlohmann::json& options) {
  return probes::run_probe(probes::ProbeRegistry::builtin().get("sae_circuit"), m, {}, options);
}

double sum(const Array& a) {
  double s = 0;
  for (float v : a.data) s += v;
  return s;
}

}  // namespace

TEST_CASE("roc_auc counts ties as one half (average ranks)", "[sae_circuit]") {
  using probes::roc_auc;
  // Positives 0.9 and 0.7 against negatives 0.8 and 0.6: 0.9 beats both, 0.7 beats 0.6 → 3/4.
  CHECK(roc_auc({0.9, 0.8, 0.7, 0.6}, {true, false, true, false}) == Approx(0.75));
  // A tie between a positive and a negative counts 1/2: (0.5 + 1 + 0 + 1) / 4 = 0.625.
  CHECK(roc_auc({1, 1, 0.5, 0}, {true, false, true, false}) == Approx(0.625));
  CHECK(roc_auc({3, 3, 3, 3, 3}, {true, false, false, true, false}) == Approx(0.5));
  CHECK(roc_auc({4, 3, 2, 1}, {true, true, false, false}) == Approx(1.0));
  CHECK(roc_auc({4, 3, 2, 1}, {false, false, true, true}) == Approx(0.0));
  // Three positives, two negatives, a three-way tie: ranks 1, 2, 4, 4, 4 → positives 2 + 4 + 4
  // = 10, minus 3·4/2 = 6, over 3·2 → 2/3.
  CHECK(roc_auc({0.1, 0.2, 0.3, 0.3, 0.3}, {false, true, true, false, true}) == Approx(2.0 / 3));
  CHECK(std::isnan(roc_auc({1, 2}, {false, false})));
  CHECK(std::isnan(roc_auc({1, 2}, {true, true})));
  CHECK(error_of([] {
          roc_auc({1, 2, 3}, {true, false});
        }).find("3 scores but 2 labels") != std::string::npos);
  CHECK(error_of([] { roc_auc({1, NAN}, {true, false}); }).find("NaN") != std::string::npos);
}

TEST_CASE("roc_curve steps through tied scores at once and its area is the AUC", "[sae_circuit]") {
  const std::vector<double> scores = {1, 1, 0.5, 0};
  const std::vector<bool> labels = {true, false, true, false};
  const auto points = probes::roc_curve(scores, labels);
  const std::vector<std::pair<double, double>> want = {{0, 0}, {0.5, 0.5}, {0.5, 1}, {1, 1}};
  REQUIRE(points.size() == want.size());
  double area = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    CHECK(points[i].first == Approx(want[i].first));
    CHECK(points[i].second == Approx(want[i].second));
    if (i > 0)
      area +=
          (points[i].first - points[i - 1].first) * (points[i].second + points[i - 1].second) / 2;
  }
  CHECK(area == Approx(probes::roc_auc(scores, labels)));
  CHECK(probes::roc_curve({1, 2}, {true, true}).empty());
}

TEST_CASE("code counts keep the codes and code pairs seen on positives only", "[sae_circuit]") {
  // Two heads (layer 0 and layer 1), two examples each side.
  const probes::CodeTable positive = {{1, 2}, {1, 3}}, negative = {{1, 4}, {5, 3}};
  // Head 0: positives {1}, negatives {1, 5} → 0. Head 1: {2, 3} \ {4, 3} = {2} → 1.
  CHECK(probes::head_code_counts(positive, negative) == std::vector<int64_t>{0, 1});
  // 0 → 1: {(1,2), (1,3)} \ {(1,4), (5,3)} → 2; 1 → 0 (not a later layer) and self pairs → 0.
  CHECK(probes::edge_code_counts(positive, negative, {0, 1}) == std::vector<int64_t>{0, 2, 0, 0});
  // Heads of one layer form no edges.
  CHECK(probes::edge_code_counts(positive, negative, {0, 0}) == std::vector<int64_t>{0, 0, 0, 0});
  const auto s = probes::softmax({0, 1, 2});
  CHECK(s[0] == Approx(1 / (1 + std::exp(1.0) + std::exp(2.0))));
  CHECK(s[0] + s[1] + s[2] == Approx(1.0));
  CHECK(error_of([&] { probes::head_code_counts(positive, {{1}}); }).find("one has 1") !=
        std::string::npos);
}

TEST_CASE("the discrete SAE trains to unit-norm decoder rows and codes every row",
          "[sae_circuit]") {
  // Four well separated directions, each with a little noise: the SAE reconstructs them.
  at::Tensor dirs = at::eye(8, at::kFloat).slice(0, 0, 4) * 3;
  at::Tensor x = dirs.repeat({5, 1}) + 0.01 * at::arange(160, at::kFloat).view({20, 8}).sin();
  probes::DiscreteSaeOptions o;
  o.latents = 16;
  o.epochs = 300;
  o.lr = 1e-2;
  o.seed = 3;
  const auto fit = probes::train_discrete_sae(x, o);
  CHECK(fit.mse < 0.2 * x.pow(2).mean().item<double>());
  // Trained on x × input_scale (mean row norm √8) with unit-norm decoder rows; the scale is
  // folded into the weights, so the rows are 1 / input_scale long and the SAE reads x itself.
  CHECK(fit.input_scale == Approx(std::sqrt(8.0) / x.norm(2, 1).mean().item<double>()));
  CHECK((fit.sae.W_dec.norm(2, 1) * fit.input_scale).sub(1).abs().max().item<double>() < 1e-5);
  CHECK((fit.sae.reconstruct(x) - x).pow(2).mean().item<double>() ==
        Approx(fit.mse).epsilon(1e-4));
  const auto codes = probes::sae_codes(fit.sae, x);
  REQUIRE(codes.size() == 20);
  // Rows of the same direction get the same code, different directions different codes.
  for (size_t i = 4; i < 20; ++i) CHECK(codes[i] == codes[i % 4]);
  CHECK(codes[0] != codes[1]);
  const auto again = probes::train_discrete_sae(x, o);
  CHECK(at::equal(again.sae.W_enc, fit.sae.W_enc));
}

TEST_CASE("normalize makes the discrete SAE's codes the same at every scale of its input",
          "[sae_circuit]") {
  // Six "heads", each a fixed direction in 16 dimensions whose length and direction vary a
  // little from example to example (ten examples), at about the scale of the default model's
  // pooled head outputs (mean row norm ≈ 1).
  const at::Tensor i = at::arange(60, at::kDouble).view({60, 1});
  const at::Tensor j = at::arange(16, at::kDouble).view({1, 16});
  const at::Tensor head = at::remainder(i, 6), example = at::floor(i / 6);
  const at::Tensor x = ((at::cos(1.7 * head * (j + 1)) * (1 + 0.3 * at::sin(example + head)) +
                         0.15 * at::sin(2.3 * i * (j + 3))) /
                        3)
                           .to(at::kFloat);
  probes::DiscreteSaeOptions o;
  o.latents = 24;
  o.epochs = 300;
  o.seed = 5;
  const auto fit = probes::train_discrete_sae(x, o);
  const auto codes = probes::sae_codes(fit.sae, x);
  CHECK((x * fit.input_scale).norm(2, 1).mean().item<double>() == Approx(4.0));  // √16
  CHECK(std::set<int64_t>(codes.begin(), codes.end()).size() >= 6);
  for (const double c : {10.0, 0.1}) {
    INFO("input × " << c);
    const at::Tensor xc = x * c;
    const auto scaled = probes::train_discrete_sae(xc, o);
    CHECK(scaled.input_scale == Approx(fit.input_scale / c));
    CHECK(probes::sae_codes(scaled.sae, xc) == codes);
    CHECK(scaled.mse == Approx(fit.mse * c * c).epsilon(1e-3));
    CHECK(scaled.l1 == Approx(fit.l1).epsilon(1e-3));
  }
  // Without it, the same λ is a different penalty at another scale: at a tenth of the scale
  // (‖x‖ ≈ 0.1 against a soft threshold of λ·d/2 = 0.16) almost nothing fires.
  o.normalize = false;
  const auto raw = probes::train_discrete_sae(x * 0.1, o);
  CHECK(raw.input_scale == 1);
  const auto raw_codes = probes::sae_codes(raw.sae, x * 0.1);
  CHECK(raw_codes != codes);
  CHECK(std::count(raw_codes.begin(), raw_codes.end(), -1) >
        std::count(codes.begin(), codes.end(), -1) + 30);
}

TEST_CASE("sae_circuit on the default model's IOI: contract shapes, softmax, AUC, determinism",
          "[sae_circuit][default-models]") {
  auto m = load_model(default_model_path());
  const ModelConfig& c = m->config();
  const int64_t L = c.n_layers, H = c.n_heads;
  const Result r = run_sae_circuit(*m, {{"task", "ioi"}, {"seed", 7}});
  REQUIRE(r.probe == "sae_circuit");
  CHECK(r.array("head_score").shape == std::vector<int64_t>{L, H});
  CHECK(r.array("edge_score").shape == std::vector<int64_t>{L, H, L, H});
  CHECK(r.array("truth_effect").shape == std::vector<int64_t>{L, H});
  CHECK(r.array("code").shape == std::vector<int64_t>{10, 2, L, H});
  CHECK(sum(r.array("head_score")) == Approx(1.0).epsilon(1e-5));
  CHECK(r.meta["examples"] == 10);
  // Edges only run from an earlier layer to a later one.
  const Array& edge = r.array("edge_score");
  for (int64_t sl = 0; sl < L; ++sl)
    for (int64_t rl = 0; rl <= sl; ++rl)
      for (int64_t sh = 0; sh < H; ++sh)
        for (int64_t rh = 0; rh < H; ++rh) CHECK(edge.at({sl, sh, rl, rh}) == 0);
  // The truth heads are the heads above the threshold of truth_effect.
  const double threshold = r.meta["truth_threshold"].get<double>();
  int64_t above = 0;
  for (float v : r.array("truth_effect").data) above += v > threshold ? 1 : 0;
  CHECK(int64_t(r.meta["truth_heads"].size()) == above);
  REQUIRE(above > 0);
  REQUIRE(above < L * H);
  REQUIRE(r.meta["auc"].is_number());
  const double auc = r.meta["auc"].get<double>();
  CHECK(auc >= 0);
  CHECK(auc <= 1);
  const Array& roc = r.array("roc");
  REQUIRE(roc.shape.size() == 2);
  CHECK(roc.shape[1] == 2);
  CHECK(roc.at({0, 0}) == 0);
  CHECK(roc.at({roc.shape[0] - 1, 1}) == 1);
  CHECK(r.meta["seconds_sae"].get<double>() > 0);
  CHECK(r.meta["seconds_patching"].get<double>() > 0);
  // normalize (the default) scaled the pooled head outputs to a mean norm of √d_model: this
  // model's are about 1, so the scale is about √128 ≈ 11.
  CHECK(r.meta["sae"]["normalize"] == true);
  CHECK(r.meta["sae"]["input_scale"].get<double>() > 5);
  CHECK(r.meta["sae"]["input_scale"].get<double>() < 20);
  CHECK(r.meta["sae"]["no_code_fraction"].get<double>() < 0.5);
  WARN("IOI: node AUC " << auc << ", edge AUC " << r.meta["edge_auc"] << ", truth "
                        << r.meta["truth_heads"] << ", SAE " << r.meta["seconds_sae"]
                        << " s, patching " << r.meta["seconds_patching"] << " s");

  const Result again = run_sae_circuit(*m, {{"task", "ioi"}, {"seed", 7}});
  for (const char* name : {"head_score", "edge_score", "code", "truth_effect"})
    CHECK(again.array(name).data == r.array(name).data);
  CHECK(again.meta["auc"] == r.meta["auc"]);
}

TEST_CASE("sae_circuit's truth is the activation_patching probe's normalised z effect",
          "[sae_circuit][default-models]") {
  // One example: the summed normalisation is that example's normalised metric.
  auto m = load_model(default_model_path());
  const Result r =
      run_sae_circuit(*m, {{"task", "ioi"}, {"examples", 1}, {"epochs", 1}, {"seed", 3}});
  REQUIRE(r.meta["examples_drawn"] == 1);  // the model solves the first example
  const auto ex = tasks::generate(*tasks::make_task("ioi"), 3, 1).front();
  probes::ProbeInputs in;
  auto ids = [&](const std::vector<std::string>& words) {
    std::vector<int64_t> out = {*m->config().bos_token_id};
    for (const auto& w : words) out.push_back(*m->tokenizer()->token_to_id(w));
    return out;
  };
  in.tokens = ids(ex.prompt);
  in.corrupt_tokens = ids(ex.corrupt);
  in.answer_id = *m->tokenizer()->token_to_id(ex.answer.at(0));
  in.wrong_id = *m->tokenizer()->token_to_id(ex.corrupt_answer.at(0));
  const Result patching =
      probes::run_probe(probes::ProbeRegistry::builtin().get("activation_patching"), *m, in,
                        {{"target", "z"}, {"metric", "normalized"}});
  const Array& want = patching.array("effect");
  const Array& got = r.array("truth_effect");
  REQUIRE(got.shape == want.shape);
  for (size_t i = 0; i < got.data.size(); ++i)
    CHECK(got.data[i] == Approx(want.data[i]).margin(1e-4));
  CHECK(r.meta["clean_logit_diff"].get<double>() ==
        Approx(patching.meta["clean_logit_diff"].get<double>()).margin(1e-4));
}

TEST_CASE("sae_circuit stops when progress asks it to, in training and in patching",
          "[sae_circuit][default-models]") {
  auto m = load_model(default_model_path());
  for (double stop_at : {0.2, 0.6}) {  // SAE training: 0.05–0.35; patching: 0.35–1
    double last = 0;
    auto progress = [&](double f) {
      last = f;
      return f < stop_at;
    };
    CHECK_THROWS_AS(probes::run_probe(probes::ProbeRegistry::builtin().get("sae_circuit"), *m, {},
                                      {{"task", "greater_than"}, {"examples", 4}}, progress),
                    Cancelled);
    CHECK(last >= stop_at);
    CHECK(last < stop_at + 0.1);
  }
}

TEST_CASE(
    "sae_circuit refuses a task without negatives or positives, or an unknown one, naming "
    "the choices",
    "[sae_circuit]") {
  auto m = load_model(default_model_path());
  for (const char* task : {"needle", "no_such_task"}) {
    const std::string e = error_of([&] { run_sae_circuit(*m, {{"task", task}}); });
    INFO(e);
    CHECK(e.find(task) != std::string::npos);
    CHECK(e.find("ioi, greater_than, induction") != std::string::npos);
  }
  // The default vision-language model learned shapes VQA only: it solves no induction example.
  auto vlm = load_model(default_vlm_path());
  const std::string e = error_of([&] {
    run_sae_circuit(*vlm, {{"task", "induction"}, {"examples", 3}});
  });
  INFO(e);
  CHECK(e.find("solves none of the 24 examples of 'induction'") != std::string::npos);
  CHECK(e.find("ioi, greater_than, induction") != std::string::npos);
}

}  // namespace mechscope::test
