// Every supported family matches Hugging Face transformers (logits and activations, fp32).
#include <c10/core/InferenceMode.h>

#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

TEST_CASE("goldens: logits and activations match HF transformers", "[model][golden]") {
  c10::InferenceMode guard;
  for (const auto& name : golden_model_names()) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name));
      SafetensorsFile expected(golden_model(name) / "expected.safetensors");
      at::Tensor tokens = expected.tensor("input_ids");
      at::Tensor logits;
      ActivationCache cache = model->run_with_cache(tokens, {}, nullptr, &logits);
      INFO(name << " logits");
      CHECK(max_abs_diff(logits, expected.tensor("logits", at::kFloat)) <= 1e-4);
      int compared = 0;
      for (const auto& key : expected.names()) {
        if (key == "input_ids" || key == "logits") continue;
        if (key == "ln_final.out") {
          // The final norm's output including its gain (HF hidden_states[-1]).
          at::Tensor normalized = cache.at("ln_final.hook_normalized");
          at::Tensor out = normalized * model->weight("ln_final.w");
          if (model->config().norm == NormKind::LayerNorm) out = out + model->weight("ln_final.b");
          CHECK(max_abs_diff(out, expected.tensor(key, at::kFloat)) <= 1e-4);
          continue;
        }
        INFO(name << " " << key);
        REQUIRE(cache.count(key) == 1);
        CHECK(cache.at(key).sizes() == expected.entry(key).shape);
        CHECK(max_abs_diff(cache.at(key), expected.tensor(key, at::kFloat)) <= 1e-4);
        ++compared;
      }
      CHECK(compared >= 8 * model->config().n_layers);
    }
  }
}

TEST_CASE("goldens: a right-padded batch gives each prompt its own result", "[model][golden]") {
  c10::InferenceMode guard;
  for (const auto& name : golden_model_names()) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name));
      SafetensorsFile expected(golden_model(name) / "expected_padded.safetensors");
      at::Tensor tokens = expected.tensor("input_ids");
      at::Tensor mask = expected.tensor("attention_mask");
      at::Tensor logits = model->forward(tokens, mask);
      at::Tensor want = expected.tensor("logits", at::kFloat);
      for (int64_t b = 0; b < tokens.size(0); ++b) {
        const int64_t len = mask[b].sum().item<int64_t>();
        at::Tensor got = logits[b].slice(0, 0, len);
        CHECK(max_abs_diff(got, want[b].slice(0, 0, len)) <= 1e-4);
        // And equal to the prompt run alone (up to f32 rounding, relative to the logits' size:
        // Gemma's √d_model-scaled embeddings give logits in the tens).
        at::Tensor alone = model->forward(tokens[b].slice(0, 0, len).unsqueeze(0))[0];
        const double size = std::max(1.0, alone.abs().max().item<double>());
        CHECK(max_abs_diff(got, alone) <= 1e-5 * size);
      }
    }
  }
}

TEST_CASE("left padding also gives each prompt its own result", "[model]") {
  c10::InferenceMode guard;
  auto model = load_model(golden_model("llama_gqa"));
  at::Tensor a = at::tensor(std::vector<int64_t>{5, 9, 13, 17, 21, 25}, at::kLong);
  at::Tensor b = at::tensor(std::vector<int64_t>{7, 11, 3}, at::kLong);
  at::Tensor tokens = at::zeros({2, 6}, at::kLong);
  at::Tensor mask = at::zeros({2, 6}, at::kLong);
  tokens[0] = a;
  mask[0].fill_(1);
  tokens[1].slice(0, 3, 6).copy_(b);
  mask[1].slice(0, 3, 6).fill_(1);
  at::Tensor logits = model->forward(tokens, mask);
  CHECK(max_abs_diff(logits[0], model->forward(a.unsqueeze(0))[0]) <= 1e-5);
  CHECK(max_abs_diff(logits[1].slice(0, 3, 6), model->forward(b.unsqueeze(0))[0]) <= 1e-5);
}
