// Head scores and head ablation on a real model.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>

#include "core/model/loader.h"
#include "probes/ablation.h"
#include "probes/head_scores.h"
#include "tests/test_paths.h"

using namespace mechscope;
using namespace mechscope::probes;

TEST_CASE("head scores are attention averages in [0, 1] of the right shape", "[probes]") {
  auto m = load_model(test::golden_dir() / "models" / "llama_gqa");
  HeadScores s = repeated_sequence_head_scores(*m, 4, 10, 1, 0);
  CHECK(s.induction.sizes() == at::IntArrayRef({2, 4}));
  CHECK(s.previous_token.min().item<float>() >= 0.0f);
  CHECK(s.induction.max().item<float>() <= 1.0f);
  auto ranked = ranked_heads(s.induction);
  REQUIRE(ranked.size() == 8);
  CHECK(s.induction[ranked[0].first][ranked[0].second].item<float>() >=
        s.induction[ranked[7].first][ranked[7].second].item<float>());
}

TEST_CASE("head ablation replaces exactly the chosen heads' hook_z", "[probes]") {
  c10::InferenceMode guard;
  auto m = load_model(test::golden_dir() / "models" / "gpt2");
  at::Tensor tokens = at::arange(1, 9, at::kLong).unsqueeze(0);
  auto clean = m->run_with_cache(tokens, {}, names_matching("blocks\\.1\\.attn\\.hook_z"));
  HookSet hooks;
  add_head_ablation(hooks, {{1, 2}}, AblationKind::Zero);
  at::Tensor seen;
  hooks.add("blocks.1.attn.hook_z", [&](HookCall& h) { seen = h.value; });
  m->run(tokens, {}, &hooks);
  at::Tensor z = clean.at("blocks.1.attn.hook_z");
  CHECK(seen.select(2, 2).abs().max().item<float>() == 0.0f);
  CHECK((seen.select(2, 1) - z.select(2, 1)).abs().max().item<float>() == 0.0f);
  HookSet mean;
  add_head_ablation(mean, {{1, 0}}, AblationKind::Mean);
  mean.add("blocks.1.attn.hook_z", [&](HookCall& h) { seen = h.value; });
  m->run(tokens, {}, &mean);
  at::Tensor want = z.select(2, 0).mean(at::IntArrayRef{0, 1});
  CHECK((seen.select(2, 0)[0][5] - want).abs().max().item<float>() < 1e-6);
}
