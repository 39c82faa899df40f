// head_detector: previous-token, duplicate-token and induction scores of every head
// (TransformerLens detect_head semantics), plus the shifted-induction family, on random
// sequences repeated once or on the user's prompt.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/head_scores.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

nlohmann::json top_heads(const at::Tensor& scores, double threshold) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [l, h] : ranked_heads(scores)) {
    const double s = scores[l][h].item<double>();
    if (s <= threshold) break;
    out.push_back({{"head", "L" + std::to_string(l) + "H" + std::to_string(h)}, {"score", s}});
  }
  return out;
}

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  DetectorOptions o;
  o.exclude_bos = options.boolean("exclude_bos");
  o.exclude_current_token = options.boolean("exclude_current_token");
  o.abs_measure = options.string("error_measure") == "abs";
  o.max_offset = options.integer("max_offset");
  const bool on_prompt = options.string("source") == "prompt";
  if (on_prompt && in.tokens.empty())
    throw Error("source=prompt scores the prompt's own attention: give a prompt.");
  const bool second_copy = options.string("rows") == "second_copy";
  if (on_prompt && second_copy)
    throw Error("rows=second_copy scores random repeated sequences; a prompt has no second copy "
                "(use source=random_repeat, or rows=all).");
  at::Tensor tokens;
  if (on_prompt) {
    tokens = at::tensor(in.tokens, at::kLong).unsqueeze(0);
  } else {
    const int64_t bos = repeats_have_bos(model) ? 1 : 0;
    const int64_t half = std::min<int64_t>(options.integer("length"), (c.n_ctx - bos) / 2);
    tokens = repeated_random_tokens(model, options.integer("examples"), half,
                                    uint64_t(options.integer("seed")));
    if (second_copy) o.first_query = bos + half;
  }
  report(progress, 0.0);
  HeadScores s = detect_heads(model, tokens, o, [&](double f) { report(progress, f); });

  const Axis layer{"layer", index_labels("L", c.n_layers)}, head{"head", index_labels("H", c.n_heads)};
  std::vector<std::string> offsets;
  for (int64_t d = 0; d <= o.max_offset; ++d) offsets.push_back(std::to_string(d));
  std::vector<int64_t> first(tokens[0].data_ptr<int64_t>(),
                             tokens[0].data_ptr<int64_t>() + tokens.size(1));
  const auto labels = token_labels(model, first);
  Result r;
  r.title = on_prompt ? result_title("Head detector", in.prompt)
                      : "Head detector — " + std::to_string(tokens.size(0)) +
                            " random repeated sequences";
  r.arrays["previous_token"] = to_array(s.previous_token, {layer, head});
  r.arrays["duplicate_token"] = to_array(s.duplicate_token, {layer, head});
  r.arrays["induction"] = to_array(s.induction, {layer, head});
  r.arrays["induction_offset"] = to_array(s.by_offset, {layer, head, {"offset", offsets}});
  r.arrays["pattern"] =
      to_array(s.first_pattern, {layer, head, {"query", labels}, {"key", labels}});
  const double threshold = options.number("threshold");
  r.meta = {{"source", on_prompt ? "prompt" : "random_repeat"},
            {"sequences", tokens.size(0)},
            {"sequence_length", tokens.size(1)},
            {"threshold", threshold},
            {"previous_token_heads", top_heads(s.previous_token, threshold)},
            {"duplicate_token_heads", top_heads(s.duplicate_token, threshold)},
            {"induction_heads", top_heads(s.induction, threshold)}};
  return r;
}

}  // namespace

std::shared_ptr<const Probe> head_detector_probe() {
  ProbeInfo info;
  info.name = "head_detector";
  info.title = "Head detector";
  info.description =
      "Previous-token, duplicate-token and induction scores of every head (TransformerLens "
      "head_detector semantics) on random sequences repeated once, or on the prompt; plus the "
      "share of attention d tokens past an earlier occurrence (d = 0 … max_offset).";
  info.inputs = {{Input::Prompt, false, "with source=prompt: the prompt to score"}};
  using T = OptionSpec::Type;
  info.options = {
      {"source", T::String, "random_repeat", {"random_repeat", "prompt"}, {}, {},
       "random_repeat: random sequences repeated once, [BOS, s, s]; prompt: the prompt (which is "
       "used only then)"},
      {"examples", T::Integer, 10, {}, 1.0, 512.0, "random repeated sequences (scores are their mean)"},
      {"length", T::Integer, 20, {}, 2.0, 4096.0,
       "tokens per copy (cut to fit the context: [BOS, s, s])"},
      {"seed", T::Integer, 0, {}, 0.0, 2147483647.0, "seed of the random sequences"},
      {"exclude_bos", T::Boolean, true, {}, {}, {},
       "ignore attention to position 0 (TransformerLens' default is false: heads that rest on "
       "BOS where nothing matches then score at most about 0.5)"},
      {"exclude_current_token", T::Boolean, false, {}, {}, {}, "ignore attention to the query's own position"},
      {"error_measure", T::String, "mul", {"mul", "abs"}, {}, {},
       "mul: share of attention on the pattern; abs: 1 − Σ|A − D| / T"},
      {"rows", T::String, "all", {"all", "second_copy"}, {}, {},
       "all: every query row (detect_head); second_copy: only the repeat's rows (the induction "
       "score of TransformerLens' main demo; random sequences only)"},
      {"max_offset", T::Integer, 4, {}, 1.0, 16.0, "induction_offset holds d = 0 … max_offset"},
      {"threshold", T::Number, 0.5, {}, 0.0, 1.0, "heads above it are listed in the metadata"}};
  info.arrays = {
      {"previous_token", {"layer", "head"}, "attention to the previous position"},
      {"duplicate_token", {"layer", "head"}, "attention to earlier copies of the query's token"},
      {"induction", {"layer", "head"}, "attention to the token after an earlier copy"},
      {"induction_offset", {"layer", "head", "offset"},
       "attention to the token d after an earlier copy (0: duplicate, 1: induction)"},
      {"pattern", {"layer", "head", "query", "key"}, "every head's attention on the first sequence"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
