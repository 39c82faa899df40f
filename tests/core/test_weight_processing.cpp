// TransformerLens weight processing (core/model/weight_processing.h): log-probabilities unchanged
// on every family, raw logits moved only by a constant per position, and what each step does.
#include <c10/core/InferenceMode.h>

#include "core/model/weight_processing.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

namespace {
at::Tensor tokens() {
  return at::tensor(std::vector<int64_t>{3, 14, 15, 92, 65, 35, 89, 79, 32, 38}, at::kLong)
      .remainder(90)
      .add(1)
      .unsqueeze(0);
}
}  // namespace

TEST_CASE("weight processing leaves the log-probabilities of every family unchanged",
          "[weights][processing]") {
  c10::InferenceMode guard;
  const std::vector<std::string> sets = {"fold_ln", "center_writing_weights", "center_unembed",
                                         "fold_value_biases", "all"};
  for (const std::string& name : golden_model_names()) {
    auto plain = load_model(golden_model(name));
    const at::Tensor logits = plain->forward(tokens()).to(at::kFloat);  // [1, pos, vocab]
    for (const std::string& set : sets) {
      INFO(name << " " << set);
      LoadOptions o;
      o.process = WeightProcessing::parse(set);
      auto processed = load_model(golden_model(name), o);
      const at::Tensor got = processed->forward(tokens()).to(at::kFloat);
      CHECK(max_abs_diff(at::log_softmax(got, -1), at::log_softmax(logits, -1)) <= 1e-4);
      // Raw logits move by one constant per position at most.
      const at::Tensor shift = got - logits;
      CHECK(max_abs_diff(shift, shift.mean(-1, true).expand_as(shift)) <= 1e-4);
      // center_unembed is skipped for soft-capped logits (Gemma 2), as in TransformerLens.
      const bool skipped = set == "center_writing_weights" ||
                           (set == "center_unembed" && plain->config().output_logits_soft_cap > 0);
      if (!skipped) CHECK_FALSE(processed->processing().empty());
    }
  }
}

TEST_CASE("what each processing step does to the weights", "[weights][processing]") {
  c10::InferenceMode guard;
  LoadOptions o;
  o.process = WeightProcessing::parse("all");
  auto gpt2 = load_model(golden_model("gpt2"), o);
  CHECK(gpt2->processing() == std::vector<std::string>{"fold_ln", "center_writing_weights",
                                                       "center_unembed", "fold_value_biases"});
  // Norms keep only their normalisation; writing weights and W_U are centred; b_V is gone.
  CHECK(max_abs_diff(gpt2->weight("blocks.0.ln1.w"), at::ones({32})) == 0);
  CHECK(gpt2->weight("blocks.1.attn.W_O").mean(-1).abs().max().item<double>() < 1e-6);
  CHECK(gpt2->weight("embed.W_E").mean(-1).abs().max().item<double>() < 1e-6);
  CHECK(gpt2->weight("unembed.W_U").mean(-1).abs().max().item<double>() < 1e-6);
  CHECK(gpt2->weight("blocks.0.attn.b_V").abs().max().item<double>() == 0);
  // Tied embeddings are untied: centring W_U over the vocabulary must not touch W_E.
  CHECK_FALSE(gpt2->weights().unembed_w.is_same(gpt2->weights().embed));

  // RMSNorm does not remove the mean: centring the writing weights is skipped, as in TL.
  auto llama = load_model(golden_model("llama_gqa"), o);
  CHECK(llama->processing() ==
        std::vector<std::string>{"fold_ln", "center_unembed", "fold_value_biases"});
  CHECK_THROWS_WITH(WeightProcessing::parse("fold_ln,fold_everything"),
                    Catch::Contains("Unknown weight processing step 'fold_everything'"));
}
