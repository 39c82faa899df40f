// Devices and dtypes: the goldens on CUDA (skipped without a GPU) and bf16 on the CPU.
#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>

#include "core/util/error.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

TEST_CASE("goldens match on CUDA", "[cuda]") {
  if (!at::hasCUDA()) {
    WARN("No CUDA GPU available to this LibTorch: skipping the [cuda] tests");
    return;
  }
  c10::InferenceMode guard;
  LoadOptions o;
  o.device = parse_device("cuda");
  for (const auto& name : golden_model_names()) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name), o);
      CHECK(model->device().is_cuda());
      SafetensorsFile expected(golden_model(name) / "expected.safetensors");
      at::Tensor logits;
      auto cache = model->run_with_cache(expected.tensor("input_ids"), {}, nullptr, &logits);
      CHECK(logits.device().is_cuda());
      CHECK(max_abs_diff(logits, expected.tensor("logits", at::kFloat)) <= 1e-3);
      for (const auto& key : expected.names()) {
        if (cache.count(key) == 0) continue;
        INFO(name << " " << key);
        CHECK(max_abs_diff(cache.at(key), expected.tensor(key, at::kFloat)) <= 1e-3);
      }
      SafetensorsFile padded(golden_model(name) / "expected_padded.safetensors");
      at::Tensor mask = padded.tensor("attention_mask");
      at::Tensor got = model->forward(padded.tensor("input_ids"), mask).cpu();
      at::Tensor want = padded.tensor("logits", at::kFloat);
      at::Tensor real = mask.to(at::kBool).unsqueeze(-1);
      CHECK(max_abs_diff(got * real, want * real) <= 1e-3);
    }
  }
}

TEST_CASE("f16 and bf16 on CUDA stay close to f32", "[cuda]") {
  if (!at::hasCUDA()) {
    WARN("No CUDA GPU available to this LibTorch: skipping the [cuda] tests");
    return;
  }
  c10::InferenceMode guard;
  SafetensorsFile expected(golden_model("llama_gqa") / "expected.safetensors");
  at::Tensor want = expected.tensor("logits", at::kFloat);
  for (auto dtype : {at::kHalf, at::kBFloat16}) {
    LoadOptions o;
    o.device = parse_device("cuda");
    o.dtype = dtype;
    auto model = load_model(golden_model("llama_gqa"), o);
    CHECK(model->dtype() == dtype);
    at::Tensor got = model->forward(expected.tensor("input_ids")).to(at::kFloat).cpu();
    CHECK(max_abs_diff(got, want) < 0.1);
  }
}

TEST_CASE("bf16 on the CPU stays close to f32; f16 on the CPU is refused", "[dtype]") {
  c10::InferenceMode guard;
  SafetensorsFile expected(golden_model("gpt2") / "expected.safetensors");
  LoadOptions o;
  o.dtype = at::kBFloat16;
  auto model = load_model(golden_model("gpt2"), o);
  CHECK(model->dtype() == at::kBFloat16);
  at::Tensor got = model->forward(expected.tensor("input_ids")).to(at::kFloat);
  CHECK(max_abs_diff(got, expected.tensor("logits", at::kFloat)) < 0.1);
  o.dtype = at::kHalf;
  CHECK_THROWS_WITH(load_model(golden_model("gpt2"), o), Catch::Contains("needs --device cuda"));
}

TEST_CASE("asking for CUDA without a GPU is a clear error", "[dtype]") {
  if (at::hasCUDA()) return;
  CHECK_THROWS_WITH(parse_device("cuda"), Catch::Contains("no usable CUDA"));
  CHECK_THROWS_WITH(parse_device("tpu"), Catch::Contains("Unknown device"));
}
