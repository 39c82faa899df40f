// The model card's section for text models: heads by attention pattern and their ablation.
#include <ATen/ATen.h>

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

void write_text_mechanisms(const CardContext& ctx, std::ostream& md, nlohmann::json& card) {
  const Model* model = &ctx.model;
  const ModelConfig& c = model->config();
  const uint64_t seed = ctx.seed;
  const auto& clean = ctx.clean;
  const auto& accuracy_with = ctx.accuracy_with;
  std::cerr << "Scoring heads…\n";
  // Random sequences of the words the induction task copies (the whole vocabulary of mechscope's
  // models; random ids for other models), scored as TransformerLens' head detector does.
  std::vector<int64_t> pool;
  if (model->tokenizer() != nullptr)
    for (const auto& w : tasks::InductionTask::copy_pool())
      if (auto id = model->tokenizer()->token_to_id(w)) pool.push_back(*id);
  if (pool.size() < 50) pool.clear();
  const int64_t half = std::min<int64_t>(24, (c.n_ctx - 1) / 2);
  HeadScores scores = repeated_sequence_head_scores(*model, 32, half, seed, pool);
  // Copying heads: attention to the token d >= 1 after an earlier copy (d = 1: the textbook
  // induction head; a model may also read further past the copy).
  auto [forward, forward_index] = scores.by_offset.slice(2, 1).max(2);  // [layers, heads] each
  auto offset_of = [&](const std::pair<int64_t, int64_t>& h) {
    return forward_index[h.first][h.second].item<int64_t>() + 1;
  };
  auto ranked = ranked_heads(forward);
  std::vector<std::pair<int64_t, int64_t>> induction_heads;
  for (const auto& h : ranked)
    if (forward[h.first][h.second].item<double>() > 0.3) induction_heads.push_back(h);
  auto prev_ranked = ranked_heads(scores.previous_token);

  // Ablate the induction heads, and as many random other heads (5 draws), mean-ablation.
  std::map<std::string, double> ablated, random_ablated;
  std::vector<std::string> random_sets;
  if (!induction_heads.empty()) {
    HookSet hooks;
    add_head_ablation(hooks, induction_heads);
    ablated = accuracy_with(&hooks);
    std::vector<std::pair<int64_t, int64_t>> others;
    for (const auto& h : ranked)
      if (std::find(induction_heads.begin(), induction_heads.end(), h) == induction_heads.end())
        others.push_back(h);
    std::mt19937_64 rng(seed);
    const int draws = 5;
    for (int d = 0; d < draws; ++d) {
      std::shuffle(others.begin(), others.end(), rng);
      std::vector<std::pair<int64_t, int64_t>> pick(
          others.begin(), others.begin() + std::min(others.size(), induction_heads.size()));
      std::string s;
      for (const auto& h : pick) s += (s.empty() ? "" : " ") + head_name(h);
      random_sets.push_back(s);
      HookSet r;
      add_head_ablation(r, pick);
      for (const auto& [name, a] : accuracy_with(&r)) random_ablated[name] += a / draws;
    }
  }

  md << "## Known mechanisms (measured with mechscope's own probes)\n\n"
     << "Head scores on 32 repeated sequences of " << half << " random "
     << (pool.empty() ? "tokens" : "vocabulary words")
     << " (`probes/head_scores.h`): mean attention from a second-copy token to the token d "
        "after its first occurrence (d = 1: induction; best d ≥ 1 shown), to its first "
        "occurrence (duplicate-token) and to the previous position (previous-token).\n\n"
     << "| head | induction (d = 1) | best d ≥ 1 | at best d | previous-token | duplicate-token "
        "|\n|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < std::min<size_t>(8, ranked.size()); ++i) {
    auto h = ranked[i];
    md << "| " << head_name(h) << " | " << fixed(scores.induction[h.first][h.second].item<double>())
       << " | " << offset_of(h) << " | " << fixed(forward[h.first][h.second].item<double>())
       << " | " << fixed(scores.previous_token[h.first][h.second].item<double>()) << " | "
       << fixed(scores.duplicate_token[h.first][h.second].item<double>()) << " |\n";
  }
  md << "\nStrongest previous-token heads: ";
  for (size_t i = 0; i < std::min<size_t>(3, prev_ranked.size()); ++i) {
    auto h = prev_ranked[i];
    md << (i ? ", " : "") << head_name(h) << " ("
       << fixed(scores.previous_token[h.first][h.second].item<double>()) << ")";
  }
  md << ".\n\n";
  if (induction_heads.empty()) {
    md << "No head attends more than 0.3 to a token after the earlier copy: no induction heads "
          "were found.\n";
  } else {
    md << "Induction heads (attention > 0.3 to the token d ≥ 1 after the earlier copy): ";
    for (size_t i = 0; i < induction_heads.size(); ++i)
      md << (i ? ", " : "") << head_name(induction_heads[i]) << " (d = " << offset_of(induction_heads[i])
         << ")";
    md << ".\n\nAccuracy when those " << induction_heads.size()
       << " heads are mean-ablated (`probes/ablation.h`: each head's hook_z replaced by its mean), "
          "against ablating as many randomly chosen other heads (mean of 5 draws):\n\n"
       << "| task | clean | induction heads ablated | random heads ablated |\n|---|---|---|---|\n";
    for (const auto& [name, a] : clean)
      md << "| " << name << " | " << pct(a) << " | " << pct(ablated[name]) << " | "
         << pct(random_ablated[name]) << " |\n";
    md << "\nRandom head sets: ";
    for (size_t i = 0; i < random_sets.size(); ++i) md << (i ? "; " : "") << random_sets[i];
    md << ".\n";
  }
  if (!induction_heads.empty()) {
    std::vector<std::string> heads;
    for (const auto& h : induction_heads) heads.push_back(head_name(h));
    card["induction_heads"] = heads;
    std::vector<int64_t> offsets;
    for (const auto& h : induction_heads) offsets.push_back(offset_of(h));
    card["induction_head_offsets"] = offsets;
    card["accuracy_induction_heads_ablated"] = ablated;
    card["accuracy_random_heads_ablated"] = random_ablated;
    write_composition(ctx, induction_heads, md, card);
  }
}

void write_composition(const CardContext& ctx,
                       const std::vector<std::pair<int64_t, int64_t>>& receivers,
                       std::ostream& md, nlohmann::json& card) {
  std::cerr << "Composition scores…\n";
  const Result r = run_probe(ProbeRegistry::builtin().get("composition"), ctx.model, {},
                             {{"baseline", true}, {"baseline_draws", 256}});
  const int64_t H = ctx.model.config().n_heads;
  md << "\n### Composition with earlier heads (`composition` probe)\n\n"
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
