// The model card's section for text models: previous-token and induction heads (head_detector),
// their ablation, retrieval heads and masking them, and composition of the induction heads.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <iostream>
#include <random>

#include "app/cli/card_sections.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "probes/ablation.h"
#include "probes/head_scores.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "probes/tasks/induction.h"

namespace mechscope::cli {
using namespace probes;  // head scores, ablation, knockout

namespace {

using Heads = std::vector<std::pair<int64_t, int64_t>>;

/// Top-1 accuracy of copying on random repeated sequences `tokens` [batch, 1 + 2 half]: every
/// second-copy position after the first predicts the next token of the copy.
double repeat_accuracy(const Model& model, const at::Tensor& tokens, const HookSet* hooks) {
  c10::InferenceMode guard;
  const int64_t T = tokens.size(1), half = (T - 1) / 2;
  const at::Tensor logits = model.run(tokens, {}, hooks).logits;  // [B, T, V]
  const at::Tensor pred = logits.slice(1, 1 + half, T - 1).argmax(-1);
  return (pred == tokens.slice(1, 2 + half, T)).to(at::kFloat).mean().item<double>();
}

Heads parse_head_list(const nlohmann::json& heads) {
  Heads out;
  for (const auto& h : heads) {
    const std::string s = h.is_object() ? h["head"].get<std::string>() : h.get<std::string>();
    const size_t H = s.find('H');
    out.push_back({std::stoll(s.substr(1, H - 1)), std::stoll(s.substr(H + 1))});
  }
  return out;
}

std::string names(const Heads& heads) {
  std::string s;
  for (const auto& h : heads) s += (s.empty() ? "" : ", ") + head_name(h);
  return s.empty() ? "none" : s;
}

}  // namespace

void write_text_mechanisms(const CardContext& ctx, std::ostream& md, nlohmann::json& card) {
  const Model& model = ctx.model;
  const ModelConfig& c = model.config();
  const uint64_t seed = ctx.seed;
  const auto& registry = ProbeRegistry::builtin();
  std::cerr << "Scoring heads…\n";
  const int64_t half = std::min<int64_t>(24, (c.n_ctx - 1) / 2);
  const nlohmann::json detector = {{"examples", 32}, {"length", half}, {"seed", int64_t(seed % 1000)}};
  nlohmann::json second = detector;
  second["rows"] = "second_copy";
  const Result all_rows = run_probe(registry.get("head_detector"), model, {}, detector);
  const Result copy_rows = run_probe(registry.get("head_detector"), model, {}, second);
  const Array& prev = all_rows.array("previous_token");
  const Array& ind_all = all_rows.array("induction");
  const Array& ind = copy_rows.array("induction");
  const Array& dup = copy_rows.array("duplicate_token");
  const Array& offs = copy_rows.array("induction_offset");
  Heads prev_heads, ind_heads, ranked;
  for (int64_t l = 0; l < c.n_layers; ++l)
    for (int64_t h = 0; h < c.n_heads; ++h) {
      ranked.push_back({l, h});
      if (prev.at({l, h}) > 0.5) prev_heads.push_back({l, h});
      if (ind.at({l, h}) > 0.5) ind_heads.push_back({l, h});
    }
  auto strength = [&](const std::pair<int64_t, int64_t>& h) {
    return std::max(prev.at({h.first, h.second}), ind.at({h.first, h.second}));
  };
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const auto& a, const auto& b) { return strength(a) > strength(b); });
  auto best_offset = [&](const std::pair<int64_t, int64_t>& h) {
    int64_t best = 0;
    for (int64_t d = 1; d < offs.shape[2]; ++d)
      if (offs.at({h.first, h.second, d}) > offs.at({h.first, h.second, best})) best = d;
    return best;
  };

  // Copying any vocabulary word: random sequences of the induction task's words (the whole
  // vocabulary), a seed of their own.
  std::vector<int64_t> pool;
  if (model.tokenizer() != nullptr)
    for (const auto& w : tasks::InductionTask::copy_pool())
      if (auto id = model.tokenizer()->token_to_id(w)) pool.push_back(*id);
  const at::Tensor repeats = repeated_random_tokens(model, 64, half, seed + 17, pool);
  const double copy_clean = repeat_accuracy(model, repeats, nullptr);

  md << "## Known mechanisms (measured with mechscope's own probes)\n\n"
     << "### Previous-token and induction heads (`head_detector`)\n\n"
     << "Induction on random sequences of any vocabulary words repeated once (64 sequences of "
     << half << " words, [BOS, s, s], a seed training never used): the next word of the second "
     << "copy is the top-1 prediction at " << pct(copy_clean) << " of its positions.\n\n"
     << "The `head_detector` probe (TransformerLens `detect_head` semantics, attention to BOS "
        "excluded) on 32 such sequences: previous-token scores over every query row, induction "
        "scores over every row (detect_head) and over the second copy's rows (the induction "
        "score of TransformerLens' main demo; the first copy has nothing to copy), and the "
        "offset d past the earlier copy that the head attends to most.\n\n"
     << "| head | previous-token | induction (all rows) | induction (second copy) | "
        "duplicate-token | strongest d |\n|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < std::min<size_t>(8, ranked.size()); ++i) {
    const auto [l, h] = ranked[i];
    md << "| " << head_name({l, h}) << " | " << fixed(prev.at({l, h})) << " | "
       << fixed(ind_all.at({l, h})) << " | " << fixed(ind.at({l, h})) << " | "
       << fixed(dup.at({l, h})) << " | " << best_offset({l, h}) << " |\n";
  }
  md << "\nPrevious-token heads (score > 0.5): " << names(prev_heads)
     << ". Induction heads at offset 1 (second-copy score > 0.5): " << names(ind_heads) << ".\n\n";

  // Ablate the circuit (previous-token + induction heads) against as many random other heads.
  Heads circuit = prev_heads;
  for (const auto& h : ind_heads)
    if (std::find(circuit.begin(), circuit.end(), h) == circuit.end()) circuit.push_back(h);
  std::map<std::string, double> ablated, random_ablated;
  double copy_ablated = 0, copy_random = 0;
  std::vector<std::string> random_sets;
  if (!circuit.empty()) {
    HookSet hooks;
    add_head_ablation(hooks, circuit);
    ablated = ctx.accuracy_with(&hooks);
    copy_ablated = repeat_accuracy(model, repeats, &hooks);
    Heads others;
    for (const auto& h : ranked)
      if (std::find(circuit.begin(), circuit.end(), h) == circuit.end()) others.push_back(h);
    std::mt19937_64 rng(seed);
    const int draws = 5;
    for (int d = 0; d < draws; ++d) {
      std::shuffle(others.begin(), others.end(), rng);
      const Heads pick(others.begin(), others.begin() + std::min(others.size(), circuit.size()));
      random_sets.push_back(names(pick));
      HookSet r;
      add_head_ablation(r, pick);
      for (const auto& [name, a] : ctx.accuracy_with(&r)) random_ablated[name] += a / draws;
      copy_random += repeat_accuracy(model, repeats, &r) / draws;
    }
    md << "Accuracy when those " << circuit.size()
       << " heads are mean-ablated (`probes/ablation.h`: each head's hook_z replaced by its "
          "mean), against ablating as many randomly chosen other heads (mean of 5 draws):\n\n"
       << "| task | clean | circuit ablated | random heads ablated |\n|---|---|---|---|\n"
       << "| copying random repeated words | " << pct(copy_clean) << " | " << pct(copy_ablated)
       << " | " << pct(copy_random) << " |\n";
    for (const auto& [name, a] : ctx.clean)
      md << "| " << name << " | " << pct(a) << " | " << pct(ablated[name]) << " | "
         << pct(random_ablated[name]) << " |\n";
    md << "\nRandom head sets: ";
    for (size_t i = 0; i < random_sets.size(); ++i) md << (i ? "; " : "") << random_sets[i];
    md << ".\n\n";
  } else {
    md << "No head passes 0.5 on either score: there is no circuit to ablate.\n\n";
  }
  card["induction_copy_accuracy"] = copy_clean;
  nlohmann::json pj = nlohmann::json::array(), ij = nlohmann::json::array();
  for (const auto& h : prev_heads) pj.push_back({{"head", head_name(h)}, {"score", prev.at({h.first, h.second})}});
  for (const auto& h : ind_heads) ij.push_back({{"head", head_name(h)}, {"score", ind.at({h.first, h.second})}});
  card["previous_token_heads"] = pj;
  card["induction_heads"] = ij;
  card["circuit_ablation"] = {{"heads", names(circuit)},
                              {"copy_clean", copy_clean},
                              {"copy_ablated", copy_ablated},
                              {"copy_random", copy_random},
                              {"tasks_ablated", ablated},
                              {"tasks_random", random_ablated},
                              {"random_sets", random_sets}};

  // Retrieval heads (Wu et al.) and masking them on the needle task.
  std::cerr << "Retrieval heads…\n";
  const Result retrieval = run_probe(registry.get("retrieval_heads"), model, {},
                                     {{"examples", 2}, {"seed", int64_t(seed % 1000)}});
  const Heads retrieval_heads = parse_head_list(retrieval.meta["retrieval_heads"]);
  md << "### Retrieval heads (`retrieval_heads`, `head_masking`)\n\n"
     << "Needle-in-a-haystack prompts over haystacks of "
     << retrieval.meta["lengths"].dump() << " words and needle depths 0, 10, …, 100% (2 per "
     << "cell); the model recalls the needle in " << retrieval.meta["kept"] << " of "
     << retrieval.meta["instances"]
     << ". A head scores when its most-attended position is the answer token being copied "
        "(Wu et al. 2024); heads above 0.1 are retrieval heads.\n\n"
     << "| head | retrieval score |\n|---|---|\n";
  nlohmann::json rj = nlohmann::json::array();
  for (const auto& h : retrieval.meta["retrieval_heads"]) {
    md << "| " << h["head"].get<std::string>() << " | " << fixed(h["score"].get<double>()) << " |\n";
    rj.push_back(h);
  }
  card["retrieval_heads"] = rj;
  if (!retrieval_heads.empty()) {
    const Result masking = run_probe(registry.get("head_masking"), model, {},
                                     {{"heads", names(retrieval_heads)},
                                      {"mode", "uniform"},
                                      {"task", "needle"},
                                      {"examples", 200},
                                      {"random_draws", 5},
                                      {"seed", int64_t(seed % 1000)}});
    const Array& acc = masking.array("accuracy");
    const Array& draws = masking.array("random_accuracy");
    md << "\nNeedle accuracy (200 examples) with the " << retrieval_heads.size()
       << " retrieval heads given uniform attention over the positions they may attend to (the "
          "paper's masking), against as many random other heads (5 draws):\n\n"
       << "| heads masked | needle accuracy |\n|---|---|\n"
       << "| none | " << pct(acc.at({0})) << " |\n"
       << "| retrieval heads (" << names(retrieval_heads) << ") | " << pct(acc.at({1})) << " |\n"
       << "| random heads (mean of " << draws.shape[0] << ") | " << pct(acc.at({2})) << " |\n";
    std::string each;
    for (float a : draws.data) each += (each.empty() ? "" : ", ") + pct(a);
    md << "\nEach random draw: " << each << " (sets: ";
    for (size_t i = 0; i < masking.meta["random_sets"].size(); ++i)
      md << (i ? "; " : "") << masking.meta["random_sets"][i].get<std::string>();
    md << ").\n";
    card["retrieval_masking"] = {{"none", acc.at({0})},
                                 {"masked", acc.at({1})},
                                 {"random", acc.at({2})},
                                 {"random_draws", draws.data}};
  }
  if (!ind_heads.empty()) write_composition(ctx, ind_heads, md, card);
}

void write_composition(const CardContext& ctx,
                       const std::vector<std::pair<int64_t, int64_t>>& receivers,
                       std::ostream& md, nlohmann::json& card) {
  std::cerr << "Composition scores…\n";
  const Result r = run_probe(ProbeRegistry::builtin().get("composition"), ctx.model, {},
                             {{"baseline", true}, {"baseline_draws", 256}});
  const int64_t H = ctx.model.config().n_heads;
  md << "\n### Composition of the induction heads with earlier heads (`composition` probe)\n\n"
     << "Weight-based Q-, K- and V-composition scores (‖A B‖_F / ‖A‖_F ‖B‖_F, TransformerLens "
        "semantics) of each induction head with every head of an earlier layer; the strongest "
        "sender of each kind, against the mean score of random matrices of the same shapes "
        "(baseline: Q "
     << fixed(r.meta["baseline"]["q"].get<double>(), 3) << ", K "
     << fixed(r.meta["baseline"]["k"].get<double>(), 3) << ", V "
     << fixed(r.meta["baseline"]["v"].get<double>(), 3) << ").\n\n"
     << "| receiver | strongest K sender | K score (× baseline) | strongest Q sender | Q score | "
        "strongest V sender | V score |\n|---|---|---|---|---|---|---|\n";
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [rl, rh] : receivers) {
    if (rl == 0) continue;  // nothing earlier to compose with
    md << "| " << head_name({rl, rh});
    nlohmann::json row = {{"receiver", head_name({rl, rh})}};
    for (const char* mode : {"k", "q", "v"}) {
      const Array& a = r.array(mode);
      double best = -1;
      std::pair<int64_t, int64_t> sender;
      for (int64_t sl = 0; sl < rl; ++sl)
        for (int64_t sh = 0; sh < H; ++sh)
          if (a.at({sl, sh, rl, rh}) > best) best = a.at({sl, sh, rl, rh}), sender = {sl, sh};
      const double base = r.meta["baseline"][mode].get<double>();
      md << " | " << head_name(sender) << " | " << fixed(best, 3);
      if (std::string(mode) == "k") md << " (" << fixed(best / base, 1) << "×)";
      row[mode] = {{"sender", head_name(sender)}, {"score", best}, {"baseline", base}};
    }
    md << " |\n";
    rows.push_back(row);
  }
  if (rows.empty()) md << "(Every induction head is in layer 0: none has earlier heads.)\n";
  card["composition"] = rows;
}

}  // namespace mechscope::cli
