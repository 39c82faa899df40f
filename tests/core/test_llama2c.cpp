// The real stories260K model (llama2.c format) from ../shared/fixtures.
#include <c10/core/InferenceMode.h>

#include "core/model/generate.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

namespace {
std::filesystem::path stories() { return fixtures_dir() / "stories260K"; }
}  // namespace

TEST_CASE("stories260K: config from the llama2.c header", "[llama2c][fixtures]") {
  if (!have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping the stories260K tests");
    return;
  }
  LoadOptions o;
  o.tokenizer = stories() / "tok512.bin";
  auto m = load_model(stories() / "stories260K.bin", o);
  const auto& c = m->config();
  CHECK(c.d_model == 64);
  CHECK(c.d_mlp == 172);
  CHECK(c.n_layers == 5);
  CHECK(c.n_heads == 8);
  CHECK(c.n_kv_heads == 4);
  CHECK(c.d_vocab == 512);
  CHECK(c.n_ctx == 512);
  CHECK(c.tied_embeddings);
  CHECK(m->parameter_count() == 32768 + 5 * (64 + 4096 + 2048 + 2048 + 4096 + 64 + 3 * 172 * 64) + 64);
}

TEST_CASE("stories260K: logits equal the same weights in HF Llama form", "[llama2c][fixtures]") {
  if (!have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping the stories260K tests");
    return;
  }
  c10::InferenceMode guard;
  auto m = load_model(stories() / "stories260K.bin");
  SafetensorsFile expected(golden_dir() / "stories260K" / "expected.safetensors");
  at::Tensor tokens = expected.tensor("input_ids");
  CHECK(max_abs_diff(m->forward(tokens), expected.tensor("logits", at::kFloat)) <= 1e-4);
}

TEST_CASE("stories260K: greedy decoding from BOS tells the known story", "[llama2c][fixtures]") {
  if (!have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping the stories260K tests");
    return;
  }
  LoadOptions o;
  o.tokenizer = stories() / "tok512.bin";
  auto m = load_model(stories() / "stories260K.bin", o);
  SafetensorsFile expected(golden_dir() / "stories260K" / "expected.safetensors");
  at::Tensor want = expected.tensor("generated").reshape(-1);
  GenerateOptions g;
  g.max_new_tokens = want.numel();
  g.stop_at_eos = false;
  std::vector<int64_t> out = generate(*m, {1}, g);
  REQUIRE(out.size() == size_t(want.numel()) + 1);
  for (int64_t i = 0; i < want.numel(); ++i) CHECK(out[i + 1] == want[i].item<int64_t>());
  const std::string text = m->tokenizer()->decode(out, true);
  CHECK(text.rfind("Once upon a time, there was a little girl named Lily. She loved to play "
                   "outside in the park.", 0) == 0);
}

TEST_CASE("stories260K: seeded sampling is reproducible", "[llama2c][fixtures]") {
  if (!have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping the stories260K tests");
    return;
  }
  auto m = load_model(stories() / "stories260K.bin");
  GenerateOptions g;
  g.max_new_tokens = 20;
  g.temperature = 1.0;
  g.seed = 42;
  auto a = generate(*m, {1}, g);
  auto b = generate(*m, {1}, g);
  CHECK(a == b);
  g.seed = 43;
  CHECK(generate(*m, {1}, g) != a);
}
