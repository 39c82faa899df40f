// GGUF files load as models (core/adapters/gguf.cpp): tiny HF models converted as llama.cpp does
// (tests/reference/make_gguf_model_goldens.py), stories260K in both formats, broken files, and
// the real models of `scripts/mechscope.sh models` (tests/reference/make_gguf_real_goldens.py).
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/model/generate.h"
#include "core/util/error.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

namespace {

std::filesystem::path gguf_golden(const std::string& name) {
  return golden_dir() / "gguf_models" / (name + ".gguf");
}

/// The message of the Error that loading `path` throws ("" if it loads).
std::string load_error(const std::filesystem::path& path) {
  try {
    load_model(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

/// Equal configs: the same fields and values, numbers to 1e-6 relative (GGUF stores f32, e.g.
/// attention.scale = 1/√query_pre_attn_scalar).
bool same_config(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number())
    return std::abs(a.get<double>() - b.get<double>()) <= 1e-6 * std::abs(b.get<double>());
  if (a.is_object() && b.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key()) || !same_config(it.value(), b[it.key()])) return false;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_config(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

/// Token ids aside: the tiny GGUF files carry no tokenizer metadata.
nlohmann::json config_without_ids(const Model& m) {
  nlohmann::json j = m.config().to_json();
  j.erase("bos_token_id");
  j.erase("eos_token_id");
  return j;
}

}  // namespace

TEST_CASE("gguf: tiny HF models converted by llama.cpp's rules match HF", "[gguf][model][golden]") {
  c10::InferenceMode guard;
  // GGUF golden → the HF golden folder it was converted from.
  const std::vector<std::pair<std::string, std::string>> models = {
      {"llama_gqa", "llama_gqa"}, {"qwen2", "qwen2"},   {"gemma", "gemma"},
      {"gemma2", "gemma2"},       {"gemma3", "gemma3"}, {"gpt2", "gpt2"},
      {"neox_sequential", "neox_sequential"},
  };
  for (const auto& [name, source] : models) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(gguf_golden(name));
      auto hf = load_model(golden_model(source));
      CHECK(model->source().format == "gguf");
      // The same config fields, hook points and canonical weights as the HF checkpoint.
      INFO("GGUF config " << config_without_ids(*model).dump() << "\nHF config "
                          << config_without_ids(*hf).dump());
      CHECK(same_config(config_without_ids(*model), config_without_ids(*hf)));
      CHECK(model->hook_names() == hf->hook_names());
      CHECK(model->weights().tl_names() == hf->weights().tl_names());
      SafetensorsFile expected(golden_model(source) / "expected.safetensors");
      at::Tensor logits = model->forward(expected.tensor("input_ids"));
      const double err = max_abs_diff(logits, expected.tensor("logits", at::kFloat));
      INFO(name << ": max |GGUF logits − HF logits| = " << err);
      CHECK(err <= 1e-4);
    }
  }
}

TEST_CASE("gguf: quantized files match HF on the dequantized weights", "[gguf][model][golden]") {
  c10::InferenceMode guard;
  // Q8_0 and Q4_1 weights (F32 where a row is not whole 32-blocks); the golden logits are HF's
  // with the same dequantized weights, so the bound is the f32 one. (Quantization itself moves
  // these random models' logits by 0.1 (Q8_0) and 1.6 (Q4_1): see the goldens' metadata.)
  for (const std::string name : {"llama_gqa_q8_0", "qwen2_q4_1"}) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(gguf_golden(name));
      SafetensorsFile expected(golden_dir() / "gguf_models" / (name + ".expected.safetensors"));
      at::Tensor logits = model->forward(expected.tensor("input_ids"));
      const double err = max_abs_diff(logits, expected.tensor("logits", at::kFloat));
      INFO(name << ": max |GGUF logits − HF logits| = " << err);
      CHECK(err <= 1e-4);
    }
  }
}

TEST_CASE("gguf: stories260K as GGUF v1 equals the llama2.c checkpoint", "[gguf][fixtures]") {
  if (!have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping the stories260K GGUF test");
    return;
  }
  c10::InferenceMode guard;
  LoadOptions o;
  o.tokenizer = fixtures_dir() / "stories260K" / "tok512.bin";
  auto bin = load_model(fixtures_dir() / "stories260K" / "stories260K.bin", o);
  auto gguf = load_model(fixtures_dir() / "gguf" / "tinyllamas-stories-260k-f32.gguf");
  REQUIRE(gguf->tokenizer() != nullptr);
  for (const std::string text : {"Once upon a time, there was a little girl named Lily.",
                                 "Tom and Sue went to the park. Tom gave a ball to",
                                 "Hello world! 123 \xC3\xA9t\xC3\xA9"}) {
    const auto ids = gguf->tokenizer()->encode(text).ids;
    CHECK(ids == bin->tokenizer()->encode(text).ids);
    at::Tensor tokens = at::tensor(ids, at::kLong).unsqueeze(0);
    const double err = max_abs_diff(gguf->forward(tokens), bin->forward(tokens));
    INFO(text << ": max |Δ logits| = " << err);
    CHECK(err <= 1e-5);
  }
}

TEST_CASE("gguf: every problem is one sentence naming the file", "[gguf][errors]") {
  auto bad = [](const std::string& n) { return golden_dir() / "gguf_models" / (n + ".gguf"); };
  CHECK(load_error(bad("bad_ok")).empty());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad_arch", "Unsupported GGUF architecture 'mamba'"},
      {"bad_missing_key", "llama.block_count"},
      {"bad_shape", "Tensor 'blk.0.ffn_up.weight'"},
      {"bad_type", "IQ4_NL, which mechscope cannot dequantize"},
      {"bad_extra_tensor", "Tensor 'rope_freqs.weight'"},
  };
  for (const auto& [name, phrase] : cases) {
    DYNAMIC_SECTION(name) {
      const std::string msg = load_error(bad(name));
      INFO(msg);
      CHECK(msg.find(phrase) != std::string::npos);
      CHECK(msg.find(bad(name).string()) != std::string::npos);
    }
  }
  CHECK(load_error(bad("bad_shape")).find("has shape [24, 32] but its metadata implies [32, 32]") !=
        std::string::npos);
}

// The real models; skipped unless `scripts/mechscope.sh models` has installed them.
TEST_CASE("gguf: real models match transformers' GGUF loader", "[gguf][real]") {
  c10::InferenceMode guard;
  const std::vector<std::pair<std::string, std::string>> models = {
      {"smollm2", "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"},
      {"gemma3", "gemma3/gemma-3-270m-q4_k_m.gguf"},
  };
  for (const auto& [name, file] : models) {
    DYNAMIC_SECTION(name) {
      const auto path = source_dir() / ".models" / file;
      if (!std::filesystem::exists(path)) {
        WARN(path.string() << " is absent (scripts/mechscope.sh models installs it): skipped");
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto model = load_model(path);
      const double load_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      WARN(name << " loaded in " << load_s << " s");
      REQUIRE(model->tokenizer() != nullptr);
      std::ifstream in(golden_dir() / "gguf_real" / (name + ".json"));
      const nlohmann::json golden = nlohmann::json::parse(in);
      for (const auto& p : golden["prompts"]) {
        const std::string prompt = p["prompt"];
        INFO(name << ": " << prompt);
        const auto ids = model->tokenizer()->encode(prompt).ids;
        CHECK(ids == p["input_ids"].get<std::vector<int64_t>>());
        at::Tensor logits = model->forward(at::tensor(ids, at::kLong).unsqueeze(0))[0];
        const auto top_ids = p["top_ids"].get<std::vector<std::vector<int64_t>>>();
        const auto top_logits = p["top_logits"].get<std::vector<std::vector<double>>>();
        double err = 0;
        for (size_t pos = 0; pos < top_ids.size(); ++pos)
          for (size_t k = 0; k < top_ids[pos].size(); ++k)
            err = std::max(err, std::abs(logits[pos][top_ids[pos][k]].item<double>() -
                                         top_logits[pos][k]));
        WARN(name << " '" << prompt << "': max |Δ top-5 logits| = " << err);
        CHECK(err <= 1e-3);
        GenerateOptions g;
        g.max_new_tokens = int64_t(p["greedy_ids"].size());
        g.stop_at_eos = false;
        auto out = generate(*model, ids, g);
        std::vector<int64_t> fresh(out.begin() + int64_t(ids.size()), out.end());
        CHECK(fresh == p["greedy_ids"].get<std::vector<int64_t>>());
        CHECK(model->tokenizer()->decode(fresh) == p["greedy_text"].get<std::string>());
      }
    }
  }
}
