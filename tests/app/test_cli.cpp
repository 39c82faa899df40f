// The CLI as users and later issues call it: info, generate, cache (HDF5), errors, --help.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <hdf5.h>

#include <array>
#include <cstdio>
#include <memory>

#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

namespace {

struct Output {
  int status;
  std::string out;
};

/// Runs mechscope-cli with `args` (shell-quoted by the caller), capturing stdout and stderr.
Output cli(const std::string& args) {
  const std::string cmd = std::string(MECHSCOPE_CLI) + " " + args + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe.get())) > 0) out.append(buf.data(), n);
  int status = pclose(pipe.release());
  return {WEXITSTATUS(status), out};
}

std::string stories_args() {
  const auto dir = fixtures_dir() / "stories260K";
  return "--model " + (dir / "stories260K.bin").string() + " --tokenizer " +
         (dir / "tok512.bin").string();
}

/// Reads a float dataset from an HDF5 file into a tensor.
at::Tensor read_h5(const std::string& file, const std::string& name) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t ds = H5Dopen2(f, name.c_str(), H5P_DEFAULT);
  REQUIRE(ds >= 0);
  hid_t space = H5Dget_space(ds);
  std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(space));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  at::Tensor t = at::empty(std::vector<int64_t>(dims.begin(), dims.end()), at::kFloat);
  H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr());
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  return t;
}

}  // namespace

TEST_CASE("cli: --help on every command, errors are one line and non-zero", "[cli]") {
  for (const char* c : {"info", "generate", "cache"}) {
    Output o = cli(std::string(c) + " --help");
    CHECK(o.status == 0);
    CHECK_THAT(o.out, Catch::Contains("Usage: mechscope-cli " + std::string(c)));
    CHECK_THAT(o.out, Catch::Contains("--model"));
  }
  Output bad = cli("info --model /nonexistent");
  CHECK(bad.status != 0);
  CHECK(bad.out == "mechscope-cli info: Model path /nonexistent does not exist.\n");
  Output unknown = cli("info --modle x");
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.out, Catch::Contains("Unknown option --modle"));
  CHECK(cli("frobnicate").status != 0);
}

TEST_CASE("cli info lists family, parameters and hook points", "[cli]") {
  Output o = cli("info --model " + golden_model("neox_parallel").string());
  REQUIRE(o.status == 0);
  CHECK_THAT(o.out, Catch::Contains("gpt_neox (GPTNeoXForCausalLM)"));
  CHECK_THAT(o.out, Catch::Contains("blocks.1.attn.hook_rot_q"));
  CHECK_THAT(o.out, Catch::Contains("blocks.0.attn.W_Q [2, 32, 16]"));
  auto m = load_model(golden_model("neox_parallel"));
  CHECK_THAT(o.out, Catch::Contains("Parameters:   " + std::to_string(m->parameter_count())));
  Output j = cli("info --json --model " + golden_model("qwen2").string());
  auto parsed = nlohmann::json::parse(j.out);
  CHECK(parsed["family"] == "qwen2");
  CHECK(parsed["config"]["n_kv_heads"] == 2);
}

TEST_CASE("cli generate prints the prompt and the greedy continuation", "[cli][fixtures]") {
  if (!have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping");
    return;
  }
  Output o = cli("generate " + stories_args() + " --prompt 'Once upon a time' --max-new-tokens 30");
  REQUIRE(o.status == 0);
  CHECK(o.out.rfind("Once upon a time, there was a little girl named Lily.", 0) == 0);
  Output s1 = cli("generate " + stories_args() + " --prompt 'Lily' --max-new-tokens 20 --temperature 0.9 --seed 7");
  Output s2 = cli("generate " + stories_args() + " --prompt 'Lily' --max-new-tokens 20 --temperature 0.9 --seed 7");
  CHECK(s1.status == 0);
  CHECK(s1.out == s2.out);
  Output ids = cli("generate " + stories_args() + " --tokens 1 --max-new-tokens 5");
  CHECK(ids.status == 0);
  CHECK_THAT(ids.out, Catch::Contains("Once upon a time"));
}

TEST_CASE("cli cache writes logits and activations to HDF5", "[cli]") {
  const std::string out = (scratch_path("cli_cache") / "cache.h5").string();
  std::filesystem::create_directories(scratch_path("cli_cache"));
  std::filesystem::remove(out);
  Output o = cli("cache --model " + golden_model("gpt2").string() +
                 " --tokens 5,6,7,8 --names 'resid_post|hook_pattern' --out " + out);
  REQUIRE(o.status == 0);
  CHECK_THAT(o.out, Catch::Contains("Wrote " + out));
  c10::InferenceMode guard;
  auto m = load_model(golden_model("gpt2"));
  at::Tensor tokens = at::tensor(std::vector<int64_t>{5, 6, 7, 8}, at::kLong).unsqueeze(0);
  at::Tensor logits;
  auto cache = m->run_with_cache(tokens, {}, nullptr, &logits);
  at::Tensor got = read_h5(out, "/logits");
  CHECK(got.sizes() == at::IntArrayRef({1, 4, m->config().d_vocab}));
  CHECK(max_abs_diff(got, logits) < 1e-5);
  at::Tensor pattern = read_h5(out, "/cache/blocks.1.attn.hook_pattern");
  CHECK(pattern.sizes() == at::IntArrayRef({1, m->config().n_heads, 4, 4}));
  CHECK(max_abs_diff(pattern, cache.at("blocks.1.attn.hook_pattern")) < 1e-5);
  CHECK(max_abs_diff(read_h5(out, "/cache/blocks.0.hook_resid_post"),
                     cache.at("blocks.0.hook_resid_post")) < 1e-5);
  // Only the requested names are written.
  hid_t f = H5Fopen(out.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(H5Lexists(f, "/cache/blocks.0.hook_resid_pre", H5P_DEFAULT) == 0);
  H5Fclose(f);
  Output too_long = cli("cache --model " + golden_model("gpt2").string() + " --tokens 999999 --out " + out);
  CHECK(too_long.status != 0);
  CHECK_THAT(too_long.out, Catch::Contains("outside the vocabulary"));
}
