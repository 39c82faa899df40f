// Head scores and head ablation on a real model.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>

#include "core/io/mapped_file.h"
#include "core/io/safetensors.h"
#include "core/model/loader.h"
#include "probes/ablation.h"
#include "probes/head_scores.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/test_paths.h"

using namespace mechscope;
using namespace mechscope::probes;

TEST_CASE("the head detector equals TransformerLens detect_head", "[probes][goldens]") {
  // tests/reference/make_head_goldens.py: TL's own detect_head on the bridge of each tiny model.
  for (const std::string name : {"gpt2", "llama_gqa", "neox_parallel", "neox_sequential"}) {
    auto m = load_model(test::golden_dir() / "models" / name);
    const auto dir = test::golden_dir() / "probes" / name;
    const auto meta = nlohmann::json::parse(read_text_file(dir / "heads.json"));
    SafetensorsFile golden(dir / "heads.safetensors");
    // TL scores each prompt of a list alone (their lengths may differ) and averages.
    auto scores = [&](const std::string& source, const DetectorOptions& o) {
      std::vector<at::Tensor> rows;
      if (source == "prompt")
        rows.push_back(at::tensor(meta["prompt_tokens"].get<std::vector<int64_t>>(), at::kLong));
      else
        for (const auto& row : meta["tokens"])
          rows.push_back(at::tensor(row.get<std::vector<int64_t>>(), at::kLong));
      std::vector<at::Tensor> prev, dup, ind;
      for (const auto& r : rows) {
        const HeadScores s = detect_heads(*m, r.unsqueeze(0), o);
        prev.push_back(s.previous_token), dup.push_back(s.duplicate_token), ind.push_back(s.induction);
      }
      return std::map<std::string, at::Tensor>{{"previous_token", at::stack(prev).mean(0)},
                                               {"duplicate_token", at::stack(dup).mean(0)},
                                               {"induction", at::stack(ind).mean(0)}};
    };
    for (bool abs : {false, true})
      for (bool bos : {false, true})
        for (bool cur : {false, true}) {
          DetectorOptions o;
          o.abs_measure = abs, o.exclude_bos = bos, o.exclude_current_token = cur;
          const std::string suffix = std::string(abs ? ".abs" : ".mul") + ".bos" +
                                     std::to_string(int(bos)) + ".cur" + std::to_string(int(cur));
          for (const std::string source : {"repeat", "prompt"}) {
            for (const auto& [kind, got] : scores(source, o)) {
              const std::string key = source + "." + kind + suffix;
              INFO(name << " " << key);
              const at::Tensor want = golden.tensor(key, at::kFloat);
              REQUIRE(got.sizes() == want.sizes());
              // abs rounds each sequence's score to 3 decimals, as TL does.
              CHECK((got - want).abs().max().item<double>() < (abs ? 1.1e-3 : 1e-5));
            }
          }
        }
  }
}

TEST_CASE("head detector offsets: d = 0 is duplicate-token, d = 1 induction", "[probes]") {
  auto m = load_model(test::golden_dir() / "models" / "llama_gqa");
  HeadScores s = repeated_sequence_head_scores(*m, 4, 10, 1);
  CHECK(s.induction.sizes() == at::IntArrayRef({2, 4}));
  CHECK(s.by_offset.sizes() == at::IntArrayRef({2, 4, 5}));
  CHECK(at::equal(s.by_offset.select(2, 0), s.duplicate_token));
  CHECK(at::equal(s.by_offset.select(2, 1), s.induction));
  CHECK(s.previous_token.min().item<float>() >= 0.0f);
  CHECK(s.first_pattern.sizes() == at::IntArrayRef({2, 4, 21, 21}));
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

TEST_CASE("the head_detector probe scores random repeats by default and the prompt on request",
          "[probes]") {
  auto m = load_model(test::golden_dir() / "models" / "llama_gqa");
  const auto& probe = ProbeRegistry::builtin().get("head_detector");
  ProbeInputs in;
  in.tokens = {1, 14, 95, 96, 14, 95, 96, 14};
  // The workbench always passes its prompt: the default still scores random repeats.
  const Result repeats = run_probe(probe, *m, in, {{"examples", 3}, {"length", 6}});
  CHECK(repeats.meta["source"] == "random_repeat");
  CHECK(repeats.array("pattern").shape[2] == 13);  // [BOS, 6, 6]
  const Result prompt = run_probe(probe, *m, in, {{"source", "prompt"}});
  const HeadScores want = detect_heads(*m, at::tensor(in.tokens, at::kLong).unsqueeze(0));
  CHECK(prompt.meta["source"] == "prompt");
  for (int64_t l = 0; l < 2; ++l)
    for (int64_t h = 0; h < 4; ++h)
      CHECK(prompt.array("induction").at({l, h}) == Approx(want.induction[l][h].item<float>()));
  CHECK_THROWS_WITH(run_probe(probe, *m, {}, {{"source", "prompt"}}), Catch::Contains("give a prompt"));
}
