// The default text model teaches the textbook circuits (data/models/mechscope-tiny-text,
// MODEL_CARD.md): it copies any vocabulary word on random repeated sequences, head_detector finds
// a previous-token head and a later induction head, ablating them breaks copying far more than
// random heads, and masking its retrieval heads breaks needle retrieval while random heads do
// not — each rechecked here on fresh seeds.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "core/io/mapped_file.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "probes/ablation.h"
#include "probes/head_scores.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "probes/tasks/induction.h"

namespace mechscope::test {
namespace {

using Heads = std::vector<std::pair<int64_t, int64_t>>;

double copy_accuracy(const Model& m, const at::Tensor& tokens, const HookSet* hooks = nullptr) {
  c10::InferenceMode guard;
  const int64_t T = tokens.size(1), half = (T - 1) / 2;
  const at::Tensor pred = m.run(tokens, {}, hooks).logits.slice(1, 1 + half, T - 1).argmax(-1);
  return (pred == tokens.slice(1, 2 + half, T)).to(at::kFloat).mean().item<double>();
}

at::Tensor random_repeats(const Model& m, uint64_t seed, int64_t half = 24) {
  std::vector<int64_t> pool;
  for (const auto& w : tasks::InductionTask::copy_pool()) pool.push_back(*m.tokenizer()->token_to_id(w));
  return probes::repeated_random_tokens(m, 64, half, seed, pool);
}

Heads heads_above(const Array& a, double threshold) {
  Heads out;
  for (int64_t l = 0; l < a.shape[0]; ++l)
    for (int64_t h = 0; h < a.shape[1]; ++h)
      if (a.at({l, h}) > threshold) out.push_back({l, h});
  return out;
}

}  // namespace

TEST_CASE("the default model copies any vocabulary word and has a previous-token → induction "
          "circuit", "[default-models][circuits]") {
  auto m = load_model(default_model_path());
  for (uint64_t seed : {90001, 90002, 90003}) {
    INFO("seed " << seed);
    CHECK(copy_accuracy(*m, random_repeats(*m, seed)) >= 0.90);
  }
  const auto& registry = probes::ProbeRegistry::builtin();
  const Result all = probes::run_probe(registry.get("head_detector"), *m, {},
                                       {{"examples", 32}, {"length", 24}, {"seed", 4711}});
  const Result copy = probes::run_probe(registry.get("head_detector"), *m, {},
                                        {{"examples", 32}, {"length", 24}, {"seed", 4711},
                                         {"rows", "second_copy"}});
  const Heads prev = heads_above(all.array("previous_token"), 0.5);
  const Heads ind = heads_above(copy.array("induction"), 0.5);
  REQUIRE_FALSE(prev.empty());
  REQUIRE_FALSE(ind.empty());
  // Some induction head sits in a later layer than some previous-token head.
  int64_t first_prev = prev.front().first, last_ind = 0;
  for (const auto& h : prev) first_prev = std::min(first_prev, h.first);
  for (const auto& h : ind) last_ind = std::max(last_ind, h.first);
  CHECK(last_ind > first_prev);

  // Ablating the circuit breaks copying far more than as many random other heads.
  Heads circuit = prev;
  circuit.insert(circuit.end(), ind.begin(), ind.end());
  const at::Tensor tokens = random_repeats(*m, 90004);
  HookSet ablate;
  probes::add_head_ablation(ablate, circuit);
  const double ablated = copy_accuracy(*m, tokens, &ablate);
  Heads others;
  for (int64_t l = 0; l < m->config().n_layers; ++l)
    for (int64_t h = 0; h < m->config().n_heads; ++h)
      if (std::find(circuit.begin(), circuit.end(), std::pair{l, h}) == circuit.end()) others.push_back({l, h});
  std::mt19937_64 rng(5);
  double random = 0;
  for (int d = 0; d < 5; ++d) {
    std::shuffle(others.begin(), others.end(), rng);
    HookSet r;
    probes::add_head_ablation(r, Heads(others.begin(), others.begin() + std::min(others.size(), circuit.size())));
    random += copy_accuracy(*m, tokens, &r) / 5;
  }
  WARN("copying: circuit ablated " << ablated << ", random heads ablated " << random);
  CHECK(ablated < 0.3);
  CHECK(random - ablated > 0.4);
}

TEST_CASE("masking the default model's retrieval heads breaks needle retrieval, random heads "
          "do not", "[default-models][circuits]") {
  auto m = load_model(default_model_path());
  const auto card = nlohmann::json::parse(read_text_file(default_model_path() / "card.json"));
  REQUIRE(card.contains("retrieval_heads"));
  REQUIRE_FALSE(card["retrieval_heads"].empty());
  std::string heads;
  for (const auto& h : card["retrieval_heads"]) heads += (heads.empty() ? "" : ",") + h["head"].get<std::string>();
  const Result r = probes::run_probe(probes::ProbeRegistry::builtin().get("head_masking"), *m, {},
                                     {{"heads", heads}, {"task", "needle"}, {"examples", 100},
                                      {"random_draws", 5}, {"seed", 77}});
  const Array& acc = r.array("accuracy");
  WARN("needle: none " << acc.at({0}) << ", retrieval heads masked " << acc.at({1}) << ", random "
                       << acc.at({2}));
  CHECK(acc.at({0}) >= 0.95);
  CHECK(acc.at({1}) < 0.5);
  CHECK(acc.at({2}) - acc.at({1}) > 0.3);
}

TEST_CASE("the default models stay small", "[default-models]") {
  for (const auto& dir : {default_model_path(), default_vlm_path()}) {
    std::uintmax_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir)) bytes += f.file_size();
    INFO(dir);
    CHECK(bytes <= 8u * 1024 * 1024);
  }
}

}  // namespace mechscope::test
