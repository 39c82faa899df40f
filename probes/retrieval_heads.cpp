// retrieval_heads: Wu et al.'s retrieval score of every head on the needle task (see
// probes/retrieval_heads.h).
#include "probes/retrieval_heads.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/position_roles.h"
#include "probes/result_meta.h"
#include "probes/tasks/needle.h"
#include "probes/tensors.h"

namespace mechscope::probes {

std::vector<double> parse_number_list(const std::string& text, const std::string& what) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size()) throw Error("Cannot read '" + item + "' in the " + what + " list.");
    out.push_back(v);
  }
  return out;
}

double rouge1_recall(const std::vector<int64_t>& answer, const std::vector<int64_t>& response) {
  std::map<int64_t, int> left;
  for (int64_t t : response) ++left[t];
  int hit = 0;
  for (int64_t t : answer)
    if (left[t] > 0) --left[t], ++hit;
  return answer.empty() ? 0.0 : double(hit) / double(answer.size());
}

at::Tensor retrieval_step(const at::Tensor& attention, const std::vector<int64_t>& tokens,
                          int64_t s, int64_t e, int64_t w) {
  const at::Tensor j = attention.argmax(-1).to(at::kCPU);  // [L, H]
  at::Tensor out = at::zeros(j.sizes(), at::kDouble);
  const auto ja = j.accessor<int64_t, 2>();
  auto oa = out.accessor<double, 2>();
  for (int64_t l = 0; l < j.size(0); ++l)
    for (int64_t h = 0; h < j.size(1); ++h) {
      const int64_t k = ja[l][h];
      if (k >= s && k < e && k < int64_t(tokens.size()) && tokens[size_t(k)] == w)
        oa[l][h] = 1.0 / double(e - s);
    }
  return out;
}

RetrievalScores retrieval_head_scores(const Model& model, RetrievalOptions o,
                                      const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  if (model.tokenizer() == nullptr) throw Error("Retrieval heads need a model with a tokenizer.");
  // The longest haystack that fits: context − BOS − needle and question (≤ 24 words) − answer.
  const int64_t room = std::min<int64_t>(c.n_ctx - 1 - o.max_new_tokens, 4096);
  tasks::TaskOptions topts;
  topts.max_words = room;
  const int64_t longest = room - 24;
  if (longest < 8) throw Error("The model's context is too short for needle-in-a-haystack prompts.");
  if (o.lengths.empty()) o.lengths = {longest / 4, longest / 2, longest};
  if (o.depths.empty())
    for (int d = 0; d <= 100; d += 10) o.depths.push_back(d);
  for (int64_t len : o.lengths)
    if (len < 1 || len > longest)
      throw Error("A haystack of " + std::to_string(len) + " words does not fit this model: use "
                  "lengths between 1 and " + std::to_string(longest) + ".");

  // Decoding stops at EOS, a newline (the paper's stop) or the end of the needle's sentence.
  std::vector<int64_t> stops;
  if (c.eos_token_id) stops.push_back(*c.eos_token_id);
  for (const char* t : {"\n", ".", "<0x0A>", "Ċ"})
    if (auto id = model.tokenizer()->token_to_id(t)) stops.push_back(*id);
  const tasks::NeedleTask needle;
  RetrievalScores out;
  out.lengths = o.lengths;
  out.depths = o.depths;
  at::Tensor sum = at::zeros({c.n_layers, c.n_heads}, at::kDouble);
  double best = -1;
  const int64_t total = int64_t(o.lengths.size() * o.depths.size()) * o.examples;
  int64_t done = 0;
  for (int64_t len : o.lengths)
    for (double depth : o.depths)
      for (int64_t e = 0; e < o.examples; ++e, ++done) {
        report(progress, double(done) / double(total));
        std::mt19937_64 rng(tasks::example_seed(o.seed, uint64_t(done)));
        const tasks::Example ex = needle.sample_at(rng, topts, len, depth);
        const TaskPrompt p = task_prompt(model, ex);
        const int64_t bos = c.bos_token_id ? 1 : 0;
        const int64_t s = ex.meta["answer_start"].get<int64_t>() + bos;
        const int64_t end = ex.meta["answer_end"].get<int64_t>() + bos;
        std::vector<int64_t> tokens = p.tokens, response;
        at::Tensor inst = at::zeros({c.n_layers, c.n_heads}, at::kDouble);
        std::vector<at::Tensor> rows;  // per step: [L, H, T_step]
        for (int64_t step = 0; step < o.max_new_tokens && int64_t(tokens.size()) < c.n_ctx; ++step) {
          std::vector<at::Tensor> last(c.n_layers);
          HookSet hooks;
          hooks.add(HookKind::Pattern, HookSet::kEveryLayer, [&](HookCall& h) {
            last[h.layer] = h.value[0].select(1, -1).to(at::kCPU).to(at::kFloat);  // [H, T]
          });
          const ForwardOutput f = model.run(prompt_tensor(model, tokens), {}, &hooks);
          const int64_t w = f.logits[0][-1].argmax().item<int64_t>();
          const at::Tensor attn = at::stack(last);  // [L, H, T]
          inst += retrieval_step(attn, tokens, s, end, w);
          rows.push_back(attn);
          response.push_back(w);
          tokens.push_back(w);
          if (std::find(stops.begin(), stops.end(), w) != stops.end()) break;
        }
        const double recall = rouge1_recall(p.answer_ids, response);
        out.recall.push_back(recall);
        ++out.instances;
        if (recall <= 0.5) continue;
        ++out.kept;
        sum += inst;
        if (inst.sum().item<double>() > best) {  // keep the attention of the best instance
          best = inst.sum().item<double>();
          const int64_t T = int64_t(tokens.size()), steps = int64_t(rows.size());
          out.pattern = at::zeros({c.n_layers, c.n_heads, steps, T});
          for (int64_t st = 0; st < steps; ++st)
            out.pattern.select(2, st).slice(2, 0, rows[size_t(st)].size(2)).copy_(rows[size_t(st)]);
          out.pattern_tokens = tokens;
        }
      }
  report(progress, 1.0);
  out.score = (out.kept > 0 ? sum / double(out.kept) : sum).to(at::kFloat);
  return out;
}

namespace {

Result run(const Model& model, const ProbeInputs&, const Options& options,
           const Progress& progress) {
  RetrievalOptions o;
  for (double v : parse_number_list(options.string("lengths"), "lengths")) o.lengths.push_back(int64_t(v));
  o.depths = parse_number_list(options.string("depths"), "depths");
  o.examples = options.integer("examples");
  o.seed = uint64_t(options.integer("seed"));
  o.max_new_tokens = options.integer("max_new_tokens");
  const RetrievalScores s = retrieval_head_scores(model, o, progress);
  if (s.kept == 0)
    throw Error("The model recalls the needle in none of the " + std::to_string(s.instances) +
                " instances: no retrieval scores (try shorter lengths).");
  const ModelConfig& c = model.config();
  const Axis layer{"layer", index_labels("L", c.n_layers)}, head{"head", index_labels("H", c.n_heads)};
  const double threshold = options.number("threshold");
  nlohmann::json heads = nlohmann::json::array();
  for (int64_t l = 0; l < c.n_layers; ++l)
    for (int64_t h = 0; h < c.n_heads; ++h)
      if (const double v = s.score[l][h].item<double>(); v > threshold)
        heads.push_back({{"head", "L" + std::to_string(l) + "H" + std::to_string(h)}, {"score", v}});
  std::sort(heads.begin(), heads.end(), [](const auto& a, const auto& b) { return a["score"] > b["score"]; });
  Result r;
  r.title = "Retrieval heads — " + std::to_string(s.kept) + " of " + std::to_string(s.instances) +
            " needles recalled";
  r.arrays["score"] = to_array(s.score, {layer, head});
  r.arrays["recall"] = to_array(at::tensor(s.recall, at::kDouble), {{"instance", {}}});
  if (s.pattern.defined()) {
    const auto labels = token_labels(model, s.pattern_tokens);
    std::vector<std::string> steps;
    const int64_t T = int64_t(s.pattern_tokens.size()), n = s.pattern.size(2);
    for (int64_t i = 0; i < n; ++i) steps.push_back("→ " + labels[size_t(T - n + i)]);
    r.arrays["pattern"] = to_array(s.pattern, {layer, head, {"step", steps}, {"key", labels}});
  }
  r.meta = {{"threshold", threshold},
            {"retrieval_heads", heads},
            {"instances", s.instances},
            {"kept", s.kept},
            {"lengths", s.lengths},
            {"depths", s.depths}};
  return r;
}

}  // namespace

std::shared_ptr<const Probe> retrieval_heads_probe() {
  ProbeInfo info;
  info.name = "retrieval_heads";
  info.title = "Retrieval heads";
  info.description =
      "Wu et al.'s retrieval score of every head on needle-in-a-haystack prompts: while the model "
      "copies the needle's answer, how often the head's most-attended position is the answer "
      "token being copied. Heads above the threshold are retrieval heads.";
  using T = OptionSpec::Type;
  info.options = {
      {"lengths", T::String, "", {}, {}, {},
       "haystack lengths in words, comma-separated (empty: a quarter, half and all of what fits)"},
      {"depths", T::String, "0,10,20,30,40,50,60,70,80,90,100", {}, {}, {},
       "needle depths in % of the haystack"},
      {"examples", T::Integer, 1, {}, 1.0, 1000.0, "instances per (length, depth)"},
      {"seed", T::Integer, 0, {}, 0.0, 2147483647.0, "seed of the instances"},
      {"max_new_tokens", T::Integer, 3, {}, 1.0, 64.0,
       "tokens decoded greedily per instance, stopping early at EOS, a newline or '.' (the "
       "needle's code is 3 words; more lets a model that repeats the code score above 1)"},
      {"threshold", T::Number, 0.1, {}, 0.0, 1.0, "heads above it are retrieval heads"}};
  info.arrays = {{"score", {"layer", "head"}, "the retrieval score, mean over recalled needles"},
                 {"recall", {"instance"}, "ROUGE-1 recall of the answer in each response"},
                 {"pattern", {"layer", "head", "step", "key"},
                  "each head's attention at each decoding step of the best-scoring instance"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
