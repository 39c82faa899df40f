#include "plugins/head_scores_plugin/head_scores_plugin.h"

#include <ATen/ATen.h>

#include <string>

#include "core/model/model.h"
#include "core/util/error.h"
#include "plugins/head_scores_plugin/prompt_scores.h"
#include "probes/head_scores.h"
#include "probes/result_meta.h"

namespace mechscope {
using namespace probes;  // next-token predictions, head scores

namespace {

/// Tensor [n_layers, n_heads] → Array with axes "layer" (L0, L1, …) and "head" (H0, H1, …).
Array layer_head_array(const at::Tensor& scores) {
  const at::Tensor s = scores.to(at::kCPU).to(at::kFloat).contiguous();  // [n_layers, n_heads]
  Array a;
  a.shape = {s.size(0), s.size(1)};
  a.data.assign(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  a.axes = {{"layer", probes::index_labels("L", s.size(0))},
            {"head", probes::index_labels("H", s.size(1))}};
  return a;
}

/// The best heads as "L1H3" labels, best first.
nlohmann::json top_heads(const at::Tensor& scores, size_t count) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [layer, head] : ranked_heads(scores)) {
    if (out.size() == count) break;
    out.push_back("L" + std::to_string(layer) + "H" + std::to_string(head));
  }
  return out;
}

}  // namespace

QString HeadScoresPlugin::name() const { return QStringLiteral("token_heads"); }

QString HeadScoresPlugin::description() const {
  return QStringLiteral(
      "Previous-token, duplicate-token and induction head scores from attention patterns, on "
      "the prompt or on a repeated random sequence.");
}

nlohmann::json HeadScoresPlugin::optionsSchema() const {
  return {
      {"type", "object"},
      {"properties",
       {{"kind",
         {{"type", "string"},
          {"enum", {"previous_token", "duplicate_token", "induction"}},
          {"default", "previous_token"},
          {"description", "Which attention pattern to score."}}},
        {"source",
         {{"type", "string"},
          {"enum", {"prompt", "random_repeat"}},
          {"default", "prompt"},
          {"description",
           "Score on the prompt's tokens, or on random token sequences repeated once "
           "([BOS, s, s], tokens drawn from the whole vocabulary), averaged."}}},
        {"batch",
         {{"type", "integer"},
          {"default", 4},
          {"description", "random_repeat: how many random sequences."}}},
        {"length",
         {{"type", "integer"},
          {"default", 20},
          {"description", "random_repeat: tokens per copy (2 × length + BOS must fit n_ctx)."}}},
        {"seed",
         {{"type", "integer"}, {"default", 0}, {"description", "random_repeat: random seed."}}}}}};
}

Result HeadScoresPlugin::run(const Model& model, const PluginInputs& inputs,
                             const nlohmann::json& options,
                             const std::function<bool(double)>& progress) {
  if (progress && !progress(0.0)) throw Cancelled();
  const std::string kind_name = options.at("kind").get<std::string>();
  const std::string source = options.at("source").get<std::string>();
  const HeadScoreKind kind = head_score_kind(kind_name);

  at::Tensor scores;  // [n_layers, n_heads]
  if (source == "random_repeat") {
    const int64_t batch = options.at("batch").get<int64_t>();
    const int64_t length = options.at("length").get<int64_t>();
    if (batch < 1 || length < 1) throw Error("batch and length must be at least 1.");
    // The prompt scores of each random sequence, averaged.
    const at::Tensor seqs =
        repeated_random_tokens(model, batch, length, options.at("seed").get<uint64_t>());
    for (int64_t b = 0; b < batch; ++b) {
      const at::Tensor row = seqs[b].contiguous();
      at::Tensor s = prompt_head_scores(
          model, {row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel()}, kind);
      scores = scores.defined() ? scores + s : s;
    }
    scores = scores / double(batch);
  } else {
    if (inputs.tokens.empty()) throw Error("There is no prompt to score heads on.");
    scores = prompt_head_scores(model, inputs.tokens, kind);
  }
  if (progress && !progress(1.0)) throw Cancelled();

  Result result;
  result.title = source == "random_repeat"
                     ? "Token heads (" + kind_name + ", random repeats)"
                     : probes::result_title("Token heads (" + kind_name + ")", inputs.prompt);
  result.arrays["score"] = layer_head_array(scores);
  result.meta = {{"kind", kind_name}, {"source", source}, {"top_heads", top_heads(scores, 5)}};
  return result;
}

}  // namespace mechscope
