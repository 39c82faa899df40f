// Bad input never crashes: each malformed file gives an error naming the file and the problem.
#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <fstream>

#include "core/util/error.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

/// A fresh scratch folder under the build's temp dir.
fs::path scratch(const std::string& name) {
  fs::path p = scratch_path("test_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

/// A safetensors file with a hand-written header and `data_len` zero bytes of data.
std::string safetensors_bytes(const std::string& header, size_t data_len) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = char((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_len, '\0');
}

/// A copy of a golden model folder to break.
fs::path copy_golden(const std::string& model, const std::string& name) {
  fs::path dir = scratch(name);
  for (const auto& e : fs::directory_iterator(golden_model(model)))
    fs::copy_file(e.path(), dir / e.path().filename());
  return dir;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("malformed safetensors files are rejected with a clear message", "[bad-input]") {
  fs::path dir = scratch("safetensors");
  struct Case {
    const char* name;
    std::string bytes;
    const char* expect;
  };
  const std::string ok_entry = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string past_end(8, '\0');
  past_end[0] = char(0xff);
  past_end[1] = char(0xff);
  const Case cases[] = {
      {"short.safetensors", "abc", "shorter than the 8-byte header"},
      {"past_end.safetensors", past_end + "{}", "runs past the end of the file"},
      {"not_json.safetensors", safetensors_bytes("{not json", 0), "not valid JSON"},
      {"offsets.safetensors",
       safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
       "outside the data section"},
      {"overlap.safetensors",
       safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                         12),
       "overlap"},
      {"dtype.safetensors",
       safetensors_bytes(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8),
       "unknown dtype 'Q4'"},
      {"size.safetensors",
       safetensors_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       "shape × dtype = 12 bytes"},
      {"negative.safetensors",
       safetensors_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
       "negative"},
      {"absurd.safetensors",
       safetensors_bytes(
           R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
           8),
       "absurd"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      const fs::path p = dir / c.name;
      write_bytes(p, c.bytes);
      const std::string msg = error_of([&] { SafetensorsFile f(p); });
      CHECK_THAT(msg, Catch::Contains(c.expect) && Catch::Contains(p.string()));
    }
  }
  write_bytes(dir / "good.safetensors", safetensors_bytes(ok_entry, 8));
  CHECK(SafetensorsFile(dir / "good.safetensors").tensor("a").numel() == 2);
  CHECK_THAT(error_of([&] { SafetensorsFile(dir / "missing.safetensors"); }),
             Catch::Contains("missing.safetensors"));
}

TEST_CASE("missing and mis-shaped tensors name the tensor and both shapes", "[bad-input]") {
  fs::path dir = copy_golden("llama_gqa", "missing_tensor");
  {
    SafetensorsFile f(golden_model("llama_gqa") / "model.safetensors");
    std::map<std::string, at::Tensor> tensors;
    for (const auto& n : f.names())
      if (n != "model.layers.1.mlp.up_proj.weight") tensors[n] = f.tensor(n);
    write_safetensors(dir / "model.safetensors", tensors);
  }
  CHECK_THAT(error_of([&] { load_model(dir); }),
             Catch::Contains("model.layers.1.mlp.up_proj.weight") && Catch::Contains("missing"));

  fs::path dir2 = copy_golden("llama_gqa", "wrong_shape");
  {
    SafetensorsFile f(golden_model("llama_gqa") / "model.safetensors");
    std::map<std::string, at::Tensor> tensors;
    for (const auto& n : f.names()) tensors[n] = f.tensor(n);
    tensors["model.layers.0.self_attn.k_proj.weight"] = at::zeros({8, 32});
    write_safetensors(dir2 / "model.safetensors", tensors);
  }
  CHECK_THAT(error_of([&] { load_model(dir2); }),
             Catch::Contains("model.layers.0.self_attn.k_proj.weight") &&
                 Catch::Contains("[8, 32]") && Catch::Contains("[16, 32]"));
}

TEST_CASE("bad configurations are explained", "[bad-input]") {
  auto with_config = [](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    fs::path dir = copy_golden("llama_gqa", name);
    nlohmann::json j = nlohmann::json::parse(read_text_file(dir / "config.json"));
    edit(j);
    write_bytes(dir / "config.json", j.dump());
    return error_of([&] { load_model(dir); });
  };
  CHECK_THAT(with_config("cfg_missing", [](auto& j) { j.erase("hidden_size"); }),
             Catch::Contains("config.json") && Catch::Contains("'hidden_size'"));
  CHECK_THAT(with_config("cfg_divisible", [](auto& j) {
               j.erase("head_dim");
               j["num_attention_heads"] = 5;
             }),
             Catch::Contains("not divisible"));
  CHECK_THAT(with_config("cfg_gqa", [](auto& j) { j["num_key_value_heads"] = 3; }),
             Catch::Contains("not a multiple of n_kv_heads"));
  CHECK_THAT(with_config("cfg_arch", [](auto& j) { j["architectures"] = {"BertModel"}; }),
             Catch::Contains("Unsupported architecture 'BertModel'") &&
                 Catch::Contains("LlamaForCausalLM") && Catch::Contains("GPT2LMHeadModel"));
  CHECK_THAT(with_config("cfg_type", [](auto& j) { j["hidden_size"] = "big"; }),
             Catch::Contains("not an integer"));
  CHECK_THAT(with_config("cfg_neg", [](auto& j) { j["intermediate_size"] = -4; }),
             Catch::Contains("d_mlp must be positive"));
  fs::path dir = copy_golden("llama_gqa", "cfg_json");
  write_bytes(dir / "config.json", "{\"architectures\": [");
  CHECK_THAT(error_of([&] { load_model(dir); }), Catch::Contains("config.json"));
  CHECK_THAT(error_of([&] { load_model(scratch("empty_dir")); }), Catch::Contains("No config.json"));
  CHECK_THAT(error_of([&] { load_model("/nonexistent/model"); }), Catch::Contains("does not exist"));
}

TEST_CASE("prompts too long or with ids outside the vocabulary are refused", "[bad-input]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("gpt2"));
  const int64_t n_ctx = m->config().n_ctx;
  CHECK_THAT(error_of([&] { m->forward(at::ones({1, n_ctx + 1}, at::kLong)); }),
             Catch::Contains("longer than the model's context"));
  CHECK_THAT(error_of([&] { m->forward(at::full({1, 3}, m->config().d_vocab, at::kLong)); }),
             Catch::Contains("outside the vocabulary"));
  CHECK_THAT(error_of([&] { m->forward(at::full({1, 3}, -1, at::kLong)); }),
             Catch::Contains("outside the vocabulary"));
}

TEST_CASE("a checkpoint that does not fit in memory is refused before allocating", "[bad-input]") {
  ::setenv("MECHSCOPE_FAKE_AVAILABLE_MEMORY", "1000", 1);
  const std::string msg = error_of([] { load_model(golden_model("gpt2")); });
  ::unsetenv("MECHSCOPE_FAKE_AVAILABLE_MEMORY");
  CHECK_THAT(msg, Catch::Contains("only 1000 B is available") && Catch::Contains("gpt2"));
}

TEST_CASE("a cache that cannot fit in memory is refused before the run", "[bad-input]") {
  auto m = load_model(golden_model("gpt2"));
  const at::Tensor tokens = at::arange(1, 33, at::kLong).view({2, 16});
  ::setenv("MECHSCOPE_FAKE_AVAILABLE_MEMORY", "40000", 1);
  const std::string all = error_of([&] { m->run_with_cache(tokens, {}, nullptr); });
  // A few points fit where all of them do not.
  const std::string few = error_of([&] { m->run_with_cache(tokens, {}, names_matching("hook_embed")); });
  ::unsetenv("MECHSCOPE_FAKE_AVAILABLE_MEMORY");
  CHECK_THAT(all, Catch::Contains("Caching") && Catch::Contains("activations of 2 × 16 tokens") &&
                      Catch::Contains("only 39.1 KiB is available"));
  CHECK(few == "(no error)");
}

TEST_CASE("a truncated llama2.c checkpoint is rejected", "[bad-input]") {
  fs::path dir = scratch("llama2c");
  // A header promising a model, and too few bytes behind it.
  std::string bytes(28, '\0');
  const int32_t h[7] = {64, 172, 5, 8, 4, 512, 512};
  std::memcpy(&bytes[0], h, sizeof h);
  write_bytes(dir / "tiny.bin", bytes + std::string(1000, '\0'));
  CHECK_THAT(error_of([&] { load_model(dir / "tiny.bin"); }),
             Catch::Contains("tiny.bin") && Catch::Contains("truncated"));
  const int32_t bad[7] = {65, 172, 5, 8, 4, 512, 512};
  std::memcpy(&bytes[0], bad, sizeof bad);
  write_bytes(dir / "odd.bin", bytes);
  CHECK_THAT(error_of([&] { load_model(dir / "odd.bin"); }), Catch::Contains("not divisible"));
  write_bytes(dir / "short.bin", "abc");
  CHECK_THAT(error_of([&] { load_model(dir / "short.bin"); }), Catch::Contains("28-byte header"));
}

TEST_CASE("an unreadable tokenizer is reported with its file name", "[bad-input]") {
  fs::path dir = copy_golden("gpt2", "bad_tokenizer");
  write_bytes(dir / "tokenizer.json", "{ this is not json");
  CHECK_THAT(error_of([&] { load_model(dir); }), Catch::Contains("tokenizer.json"));
}
