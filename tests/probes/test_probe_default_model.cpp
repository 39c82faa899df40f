// The causal probes on the embedded default text model: the circuit its card names
// (data/models/mechscope-tiny-text/MODEL_CARD.md, card.json: the previous-token head and the
// induction heads head_detector finds) is what activation and path patching find on its
// induction and IOI examples.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <set>

#include "core/io/mapped_file.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "probes/tasks/task.h"

namespace mechscope::test {
namespace {

/// The card's induction heads (head_detector, second-copy score > 0.5).
const std::set<std::string>& card_heads() {
  static const std::set<std::string> heads = [] {
    const auto card = nlohmann::json::parse(read_text_file(default_model_path() / "card.json"));
    std::set<std::string> out;
    for (const auto& h : card.at("induction_heads")) out.insert(h.at("head").get<std::string>());
    return out;
  }();
  return heads;
}

/// The `k` heads with the largest values.
std::set<std::string> top_heads(const std::map<std::string, double>& effect, size_t k) {
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [head, v] : effect) ranked.push_back({v, head});
  std::sort(ranked.rbegin(), ranked.rend());
  std::set<std::string> out;
  for (size_t i = 0; i < std::min(k, ranked.size()); ++i) out.insert(ranked[i].second);
  return out;
}

/// Mean over `n` task examples of a [layer, head] array of `probe`, by head label.
std::map<std::string, double> mean_head_effect(const Model& model, const std::string& task,
                                               const std::string& probe,
                                               const nlohmann::json& options, int n) {
  const auto& registry = probes::ProbeRegistry::builtin();
  std::map<std::string, double> mean;
  for (const tasks::Example& ex : tasks::generate(*tasks::make_task(task), 77, n)) {
    probes::ProbeInputs in;
    // Words joined by spaces: one token per word (render_words joins digits and punctuation).
    auto join = [](const std::vector<std::string>& w) {
      std::string s;
      for (const auto& x : w) s += (s.empty() ? "" : " ") + x;
      return s;
    };
    in.prompt = join(ex.prompt);
    in.tokens = model.tokenizer()->encode(in.prompt, true).ids;
    in.corrupt_prompt = join(ex.corrupt);
    in.corrupt_tokens = model.tokenizer()->encode(in.corrupt_prompt, true).ids;
    in.answer = ex.answer.at(0);
    in.wrong = ex.corrupt_answer.at(0);
    const Result r = probes::run_probe(registry.get(probe), model, in, options);
    const Array& e = r.array("effect");
    for (int64_t l = 0; l < e.shape[0]; ++l)
      for (int64_t h = 0; h < e.shape[1]; ++h)
        mean["L" + std::to_string(l) + "H" + std::to_string(h)] += e.at({l, h}) / n;
  }
  return mean;
}

/// How many of the `k` heads with the largest values are card heads; logs the ranking.
int card_heads_in_top(const std::map<std::string, double>& effect, size_t k,
                      const std::string& what) {
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [head, v] : effect) ranked.push_back({v, head});
  std::sort(ranked.rbegin(), ranked.rend());
  std::string top;
  int hits = 0;
  for (size_t i = 0; i < k; ++i) {
    top += ranked[i].second + " " + std::to_string(ranked[i].first).substr(0, 5) + "  ";
    hits += card_heads().count(ranked[i].second) ? 1 : 0;
  }
  WARN(what << ": " << top);
  return hits;
}

}  // namespace

TEST_CASE("on the default model, patching finds the induction heads its card names",
          "[probes][default_model]") {
  auto model = load_model(default_model_path());
  const nlohmann::json z = {{"target", "z"}, {"metric", "normalized"}};
  const size_t n = card_heads().size();
  REQUIRE(n > 0);
  // Induction: restoring an induction head's output recovers the clean logit difference; the
  // card's induction heads are exactly the top ones (the previous-token head alone restores
  // nothing: the corrupted first copy holds other tokens).
  const auto induction = mean_head_effect(*model, "induction", "activation_patching", z, 6);
  CHECK(card_heads_in_top(induction, n, "induction, activation patching of z") == int(n));
  // IOI reuses the induction heads: most of them are among the six heads that matter most.
  const auto ioi = mean_head_effect(*model, "ioi", "activation_patching", z, 6);
  CHECK(card_heads_in_top(ioi, 6, "IOI, activation patching of z, top 6") >= int(n) - 1);
  // Path patching into the logits finds the heads that write the name directly; activation
  // patching ranks the same heads among its top six.
  const auto path = mean_head_effect(*model, "ioi", "path_patching", {{"metric", "normalized"}}, 6);
  std::map<std::string, double> drop;  // 1 − normalised metric: how much noising the head hurts
  for (const auto& [head, v] : path) drop[head] = 1 - v;
  card_heads_in_top(drop, 6, "IOI, path patching to logits (1 − metric), top 6");
  const auto direct = top_heads(drop, 3), important = top_heads(ioi, 6);
  for (const auto& h : direct) {
    INFO(h << " writes to the logits directly but is not in activation patching's top six");
    CHECK(important.count(h) == 1);
  }
}

}  // namespace mechscope::test
