// The KV cache: cached runs and cached generation give the tokens and logits of full
// recomputation on every golden model family (learned and rotary positions, GQA/MQA, sliding
// windows shorter than the sequence, Gemma 3's local/global RoPE, LLaVA with an image), with
// hooks that clamp and steer, and when the sequence outgrows the context.
#include <c10/core/InferenceMode.h>

#include "core/model/generate.h"
#include "core/model/kv_cache.h"
#include "core/model/vision.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

namespace {

/// What one generation produced: the tokens (prompt first) and each step's next-token logits.
struct Generation {
  std::vector<int64_t> tokens;
  std::vector<at::Tensor> logits;  // [d_vocab] per step
};

Generation run_generate(const Model& model, const std::vector<int64_t>& prompt,
                        GenerateOptions options, bool use_cache) {
  Generation g;
  options.use_cache = use_cache;
  options.stop_at_eos = false;
  options.on_logits = [&g](const at::Tensor& logits) { g.logits.push_back(logits.clone()); };
  g.tokens = generate(model, prompt, options);
  return g;
}

/// Cached and uncached generation of the same prompt and options agree token for token, with
/// each step's logits within 1e-4.
void check_same_generation(const Model& model, const std::vector<int64_t>& prompt,
                           const GenerateOptions& options) {
  const Generation cached = run_generate(model, prompt, options, true);
  const Generation full = run_generate(model, prompt, options, false);
  CHECK(cached.tokens == full.tokens);
  CHECK(int64_t(cached.tokens.size()) == int64_t(prompt.size()) + options.max_new_tokens);
  REQUIRE(cached.logits.size() == full.logits.size());
  double worst = 0;
  for (size_t i = 0; i < cached.logits.size(); ++i)
    worst = std::max(worst, max_abs_diff(cached.logits[i], full.logits[i]));
  CHECK(worst <= 1e-4);
}

/// `n` token ids in [0, d_vocab) from a seeded generator.
std::vector<int64_t> random_prompt(const Model& model, int64_t n, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor t = at::randint(model.config().d_vocab, {n}, at::kLong);
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
}

}  // namespace

TEST_CASE("KV cache: generation equals full recomputation on every golden model",
          "[generate][kv_cache]") {
  c10::InferenceMode guard;
  for (const std::string& name : golden_model_names()) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name));
      const std::vector<int64_t> prompt = random_prompt(*model, 9, 7);
      GenerateOptions greedy;
      greedy.max_new_tokens = 20;
      check_same_generation(*model, prompt, greedy);
      GenerateOptions sampled = greedy;  // sampling with a seed draws the same tokens
      sampled.temperature = 0.8;
      sampled.top_k = 20;
      sampled.seed = 11;
      check_same_generation(*model, prompt, sampled);
    }
  }
}

TEST_CASE("KV cache: LLaVA generation with an image equals full recomputation",
          "[generate][kv_cache][llava]") {
  c10::InferenceMode guard;
  auto model = load_model(golden_model("llava_tiny"));
  SafetensorsFile expected(golden_model("llava_tiny") / "expected.safetensors");
  at::Tensor ids = expected.tensor("input_ids")[0].contiguous();  // [pos], 16 image tokens
  const at::Tensor pixels =
      expected.tensor("pixel_values", at::kFloat).slice(0, 0, 1);  // [1, 3, S, S]
  const std::vector<int64_t> prompt(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  GenerateOptions options;
  options.max_new_tokens = 20;
  options.pixel_values = &pixels;  // on the first run only with the cache, on every run without
  check_same_generation(*model, prompt, options);
  // The image matters: another image gives other logits.
  const at::Tensor other = expected.tensor("pixel_values", at::kFloat).slice(0, 1, 2);
  GenerateOptions with_other = options;
  with_other.pixel_values = &other;
  CHECK(max_abs_diff(run_generate(*model, prompt, options, true).logits[0],
                     run_generate(*model, prompt, with_other, true).logits[0]) > 1e-4);
}

TEST_CASE("KV cache: clamping and steering hooks apply on cached steps", "[generate][kv_cache]") {
  c10::InferenceMode guard;
  for (const char* name : {"gpt2", "llama_gqa", "gemma3"}) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name));
      const ModelConfig& c = model->config();
      const std::vector<int64_t> prompt = random_prompt(*model, 7, 3);
      GenerateOptions plain;
      plain.max_new_tokens = 20;
      const Generation unhooked = run_generate(*model, prompt, plain, true);

      // Clamp one MLP neuron of the last layer to a large value at every position (what
      // probes::add_neuron_clamp installs), and steer the residual stream of layer 0 along a
      // fixed direction.
      HookSet hooks;
      hooks.add(HookKind::MlpPost, int(c.n_layers - 1),
                [](HookCall& h) { h.value.select(-1, 3).fill_(25.0); });
      at::manual_seed(5);
      const at::Tensor direction = at::randn({c.d_model}) * 4.0;  // [d_model]
      hooks.add(HookKind::ResidPre, 0, [direction](HookCall& h) { h.value = h.value + direction; });
      // Hook tensors of cached steps hold the new positions only.
      std::vector<int64_t> seen;
      hooks.add(HookKind::Pattern, 0, [&seen](HookCall& h) {
        seen.push_back(h.value.size(2));
        CHECK(h.value.size(3) >= h.value.size(2));
      });
      GenerateOptions hooked = plain;
      hooked.hooks = &hooks;
      check_same_generation(*model, prompt, hooked);
      seen.clear();
      const Generation cached = run_generate(*model, prompt, hooked, true);
      REQUIRE(seen.size() == 20);
      CHECK(seen.front() == int64_t(prompt.size()));  // the prompt, then one token per step
      CHECK(std::all_of(seen.begin() + 1, seen.end(), [](int64_t n) { return n == 1; }));
      // The hooks change the logits (so the test above tested something).
      CHECK(max_abs_diff(cached.logits[0], unhooked.logits[0]) > 1e-3);
    }
  }
}

TEST_CASE("KV cache: the context window slides as without the cache", "[generate][kv_cache]") {
  c10::InferenceMode guard;
  // GPT-2's golden model has n_ctx = 32 learned positions; Mistral's 64 with a sliding window of 6.
  for (const char* name : {"gpt2", "mistral_sliding"}) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name));
      const int64_t n_ctx = model->config().n_ctx;
      const std::vector<int64_t> prompt = random_prompt(*model, n_ctx - 10, 9);
      GenerateOptions options;
      options.max_new_tokens = 20;  // the last 10 steps run a slid window
      check_same_generation(*model, prompt, options);
    }
  }
}

TEST_CASE("KV cache: runs in pieces give the logits and activations of one run",
          "[generate][kv_cache]") {
  c10::InferenceMode guard;
  for (const char* name :
       {"gpt2", "llama_gqa", "mistral_sliding", "gemma2", "gemma3", "neox_parallel"}) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name));
      const std::vector<int64_t> ids = random_prompt(*model, 17, 1);
      const at::Tensor tokens = at::tensor(ids, at::kLong).unsqueeze(0);  // [1, 17]
      at::Tensor full_logits;
      ActivationCache full = model->run_with_cache(
          tokens, {}, [](const std::string& n) { return n.find("hook_z") != std::string::npos; },
          &full_logits);
      // Pieces of 5, 4, 1, 7 positions, each after the cached ones (windows of 4–6 are crossed
      // inside and between pieces).
      KVCache cache;
      int64_t at = 0;
      for (int64_t n : {5, 4, 1, 7}) {
        HookSet hooks;
        at::Tensor z;
        hooks.add(HookKind::Z, 1, [&z](HookCall& h) { z = h.value; });
        const ForwardOutput out = model->run(tokens.slice(1, at, at + n), {}, &hooks, &cache);
        INFO("positions " << at << "…" << at + n - 1);
        CHECK(cache.length() == at + n);
        CHECK(max_abs_diff(out.logits, full_logits.slice(1, at, at + n)) <= 1e-4);
        // Pieces and the whole run multiply matrices of other shapes, so the products may sum in
        // another order: float32 rounding, relative to the activation's size.
        const at::Tensor z_full = full.at("blocks.1.attn.hook_z").slice(1, at, at + n);
        const double scale = std::max(1.0, z_full.abs().max().item<double>());
        INFO("max |z| " << scale);
        CHECK(max_abs_diff(z, z_full) <= 1e-5 * scale);
        at += n;
      }
    }
  }
}

TEST_CASE("KV cache: misuse is refused, a stopped run is not cached", "[generate][kv_cache]") {
  c10::InferenceMode guard;
  auto model = load_model(golden_model("gpt2"));
  const int64_t n_ctx = model->config().n_ctx;                       // 32
  const at::Tensor tokens = at::arange(10, at::kLong).unsqueeze(0);  // [1, 10]
  KVCache cache;
  // A padding mask with a cache.
  CHECK_THROWS_WITH(model->run(tokens, at::ones({1, 10}, at::kLong), nullptr, &cache),
                    Catch::Contains("no attention mask"));
  // A hook that stops the run leaves the cache as it was.
  HookSet stop;
  stop.add(HookKind::ResidPost, 0, [](HookCall& h) { h.stop = true; });
  CHECK(model->run(tokens, {}, &stop, &cache).stopped);
  CHECK(cache.length() == 0);
  model->run(tokens, {}, nullptr, &cache);
  CHECK(cache.length() == 10);
  // Past the context.
  CHECK_THROWS_WITH(model->run(at::zeros({1, n_ctx - 9}, at::kLong), {}, nullptr, &cache),
                    Catch::Contains("n_ctx"));
  // A hook that prepends keys and values (the patching sweeps' prefix) with a cache.
  HookSet prefix;
  prefix.add(HookKind::K, HookSet::kEveryLayer, [](HookCall& h) {
    h.value = at::cat({h.value, h.value}, 1);
  });
  prefix.add(HookKind::V, HookSet::kEveryLayer, [](HookCall& h) {
    h.value = at::cat({h.value, h.value}, 1);
  });
  CHECK_THROWS_WITH(model->run(tokens.slice(1, 0, 2), {}, &prefix, &cache),
                    Catch::Contains("KV cache"));
  CHECK(cache.length() == 10);
  // Another batch size while positions are cached; after clear() the cache adopts it.
  CHECK_THROWS_WITH(model->run(tokens.expand({2, 10}), {}, nullptr, &cache),
                    Catch::Contains("clear it"));
  cache.clear();
  model->run(tokens.expand({2, 10}), {}, nullptr, &cache);
  CHECK(cache.length() == 10);
  // The capacity grows when a run needs more than was reserved.
  KVCache small(4);
  model->run(tokens.slice(1, 0, 3), {}, nullptr, &small);
  CHECK(small.capacity() == 4);
  const ForwardOutput grown = model->run(tokens.slice(1, 3, 10), {}, nullptr, &small);
  CHECK(small.capacity() >= 10);
  CHECK(max_abs_diff(grown.logits, model->run(tokens).logits.slice(1, 3, 10)) <= 1e-4);
}
