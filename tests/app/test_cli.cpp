// The CLI as users and later issues call it: info, generate, cache (HDF5), errors, --help.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <hdf5.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "tests/app/cli_run.h"
#include "core/io/mapped_file.h"
#include "core/session/session.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

namespace {

using Output = test::CliOutput;

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
  for (const char* c : {"info", "generate", "cache", "attention"}) {
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

TEST_CASE("cli attention writes a session and --append adds results", "[cli][fixtures]") {
  if (!have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping");
    return;
  }
  const auto dir = scratch_path("cli_attention");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "s.mscope").string();
  Output first = cli("attention " + stories_args() + " --prompt 'Once upon a time' --out " + out);
  REQUIRE(first.status == 0);
  auto model = load_model(fixtures_dir() / "stories260K" / "stories260K.bin",
                          LoadOptions{fixtures_dir() / "stories260K" / "tok512.bin"});
  const auto ids = model->tokenizer()->encode("Once upon a time", true).ids;
  const int64_t n = int64_t(ids.size());
  const std::string shape = "[layer 5, head 8, query " + std::to_string(n) + ", key " +
                            std::to_string(n) + "]";
  CHECK(first.out == "Wrote attention-1: pattern " + shape + " to " + out + " (1 result).\n");
  Session s = load_session(out);
  REQUIRE(s.results.size() == 1);
  CHECK(s.results[0].id == "attention-1");
  CHECK(s.results[0].array("pattern").shape == std::vector<int64_t>{5, 8, n, n});
  CHECK(s.results[0].array("pattern").axes[2].labels[1] == model->tokenizer()->token_text(ids[1]));
  CHECK(s.model["name"] == "stories260K");
  const auto tokenizer = fixtures_dir() / "stories260K" / "tok512.bin";
  CHECK(s.model["tokenizer"] == tokenizer.lexically_normal().string());
  REQUIRE(s.prompts.size() == 1);
  CHECK(s.prompts[0].text == "Once upon a time");
  CHECK(s.views.contains("results"));

  Output second = cli("attention " + stories_args() + " --prompt 'Lily and Tom' --out " + out +
                      " --append");
  REQUIRE(second.status == 0);
  CHECK_THAT(second.out, Catch::StartsWith("Added attention-2: pattern [layer 5, head 8,"));
  Session both = load_session(out);
  REQUIRE(both.results.size() == 2);
  CHECK(both.results[0].array("pattern").data == s.results[0].array("pattern").data);
  CHECK(both.results[1].id == "attention-2");
  CHECK(both.results[1].meta["inputs"]["prompt"] == "Lily and Tom");
  CHECK(both.prompts.size() == 2);

  // Without --append the file is replaced by a new session.
  REQUIRE(cli("attention " + stories_args() + " --prompt 'Lily' --out " + out).status == 0);
  CHECK(load_session(out).results.size() == 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli attention takes token ids and reports bad output paths", "[cli]") {
  const auto dir = scratch_path("cli_attention_ids");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "s.mscope").string();
  Output o = cli("attention --model " + golden_model("gpt2").string() + " --tokens 5,6,7,8 --out " +
                 out);
  REQUIRE(o.status == 0);
  auto m = load_model(golden_model("gpt2"));
  Session s = load_session(out);
  REQUIRE(s.results.size() == 1);
  CHECK(s.results[0].array("pattern").shape ==
        std::vector<int64_t>{m->config().n_layers, m->config().n_heads, 4, 4});
  CHECK(s.prompts.empty());  // no tokenizer, no text

  Output bad = cli("attention --model " + golden_model("gpt2").string() +
                   " --tokens 5,6 --out /nonexistent/folder/s.mscope");
  CHECK(bad.status != 0);
  CHECK(bad.out == "mechscope-cli attention: Cannot save the session /nonexistent/folder/s.mscope: "
                   "the folder /nonexistent/folder does not exist.\n");

  const std::string text = (dir / "notes.txt").string();
  std::ofstream(text) << "not a session";
  Output not_session = cli("attention --model " + golden_model("gpt2").string() +
                           " --tokens 5,6 --append --out " + text);
  CHECK(not_session.status != 0);
  CHECK_THAT(not_session.out, Catch::Contains("it is not an HDF5 file"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli export draws a session's results as PNG, SVG and PDF", "[cli]") {
  if (cli("--help").out.find("  export ") == std::string::npos) {
    WARN("mechscope-cli was built without Qt: no export command");
    return;
  }
  const auto dir = scratch_path("cli_export");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Session s;
  s.model = {{"name", "synthetic"}};
  Result r;
  r.id = "attention-1";
  r.probe = "attention";
  r.title = "Attention";
  Array pattern;
  pattern.shape = {1, 2, 3, 3};
  pattern.axes = {{"layer", {}}, {"head", {}}, {"query", {"a", "b", "c"}}, {"key", {"a", "b", "c"}}};
  pattern.data = {1, 0, 0, .5f, .5f, 0, .2f, .3f, .5f, 1, 0, 0, .9f, .1f, 0, .1f, .1f, .8f};
  r.arrays["pattern"] = pattern;
  r.meta = {{"created", iso_time_now()}};
  s.results = {r};
  s.views = {{"workbench", nlohmann::json::object()},
             {"results", {{"attention-1", {{"mode", "head"}, {"head", 1}}}}}};
  const std::string session = (dir / "s.mscope").string();
  save_session(s, session);

  const auto figs = dir / "figs";
  Output o = cli("export " + session + " --out " + figs.string() + " --formats png,svg,pdf --width 500");
  REQUIRE(o.status == 0);
  CHECK(o.out == (figs / "attention-1.png").string() + "\n" + (figs / "attention-1.svg").string() +
                     "\n" + (figs / "attention-1.pdf").string() + "\n");
  auto head = [](const std::filesystem::path& p, size_t n) {
    std::ifstream in(p, std::ios::binary);
    std::string s(n, '\0');
    in.read(s.data(), std::streamsize(n));
    return s;
  };
  CHECK(head(figs / "attention-1.png", 4) == "\x89PNG");
  CHECK(head(figs / "attention-1.svg", 200).find("<svg") != std::string::npos);
  CHECK(head(figs / "attention-1.pdf", 4) == "%PDF");

  Output bad = cli("export " + session + " --out " + figs.string() + " --formats gif");
  CHECK(bad.status == 1);
  CHECK(bad.out == "mechscope-cli export: Unknown export format 'gif' (use png, svg or pdf).\n");
  Output missing = cli("export --out " + figs.string());
  CHECK(missing.status == 1);
  CHECK_THAT(missing.out, Catch::Contains("Missing the session file"));
  Output unknown = cli("export " + session + " --out " + figs.string() + " --result nope");
  CHECK(unknown.status == 1);
  CHECK_THAT(unknown.out, Catch::Contains("has no result 'nope'"));

  // --per-layer: one figure per layer of a patching Result; --layers narrows which.
  Result p;
  p.id = "activation_patching-1";
  p.probe = "activation_patching";
  Array effect;
  effect.shape = {3, 2};
  effect.axes = {{"layer", {"L0", "L1", "L2"}}, {"position", {"Mary", "John"}}};
  effect.data = {0, 1, 2, 3, 4, 5};
  p.arrays["effect"] = effect;
  p.meta = {{"metric", "logit_diff"}, {"corrupted_metric", 1.0}, {"clean_metric", 4.0}};
  s.results = {p};
  s.views = {{"workbench", nlohmann::json::object()}};
  const std::string patching = (dir / "p.mscope").string();
  save_session(s, patching);
  const auto per = dir / "per";
  Output layers = cli("export " + patching + " --out " + per.string() +
                      " --formats svg --width 400 --per-layer --layers 0,2");
  REQUIRE(layers.status == 0);
  CHECK(layers.out == (per / "activation_patching-1-L0.svg").string() + "\n" +
                          (per / "activation_patching-1-L2.svg").string() + "\n");
  std::ifstream svg(per / "activation_patching-1-L2.svg");
  std::string text;
  std::getline(svg, text, '\0');
  CHECK(text.find("John") != std::string::npos);  // token labels on the position axis
  Output badLayers = cli("export " + patching + " --out " + per.string() + " --layers 0,x");
  CHECK(badLayers.status == 1);
  CHECK_THAT(badLayers.out, Catch::Contains("Option --layers needs comma-separated numbers"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli plugin lists the example plugin and adds its Result to a session", "[cli]") {
  Output list = cli("plugin --list");
  REQUIRE(list.status == 0);
  CHECK_THAT(list.out, Catch::Contains("token_heads"));

  const auto dir = scratch_path("cli_plugin");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "s.mscope").string();
  const std::string model = " --model " + golden_model("gpt2").string();
  REQUIRE(cli("attention" + model + " --tokens 5,6,7,5,6,7 --out " + out).status == 0);
  Output o = cli("plugin token_heads" + model + " --tokens 5,6,7,5,6,7 --append --out " + out);
  REQUIRE(o.status == 0);
  CHECK(o.out == "Added token_heads-1: score [layer 2, head 4] to " + out + " (2 results).\n");
  auto m = load_model(golden_model("gpt2"));
  Session s = load_session(out);
  REQUIRE(s.results.size() == 2);
  CHECK(s.results[1].probe == "token_heads");
  CHECK(s.results[1].array("score").shape ==
        std::vector<int64_t>{m->config().n_layers, m->config().n_heads});

  Output unknown = cli("plugin nope" + model + " --tokens 5,6 --out " + out);
  CHECK(unknown.status != 0);
  CHECK_THAT(unknown.out, Catch::Contains("No plugin named 'nope'"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli probes lists the registry and run runs any probe into a session", "[cli]") {
  Output list = cli("probes --json");
  REQUIRE(list.status == 0);
  const auto probes = nlohmann::json::parse(list.out);
  std::vector<std::string> names;
  for (const auto& p : probes) names.push_back(p["name"]);
  for (const char* n : {"attention", "activation_patching", "attribution_patching",
                        "path_patching", "logit_attribution", "logit_lens", "token_heads"})
    CHECK(std::find(names.begin(), names.end(), n) != names.end());
  for (const auto& p : probes)
    if (p["name"] == "path_patching") {
      CHECK(p["options"]["properties"]["receiver_input"]["enum"] ==
            nlohmann::json({"q", "k", "v"}));
      CHECK(p["arrays"][0]["axes"] == nlohmann::json({"layer", "head"}));
    }

  const auto dir = scratch_path("cli_run");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "s.mscope").string();
  const std::string model = " --model " + golden_model("gpt2").string();
  const std::string inputs = " --tokens 14,95,96,87,111,10,114 --corrupt-tokens 14,95,55,87,48,10,114"
                             " --answer-id 75 --wrong-id 98";
  Output run = cli("run activation_patching" + model + inputs +
                   " --option target=z --option per_position=true --out " + out);
  REQUIRE(run.status == 0);
  CHECK(run.out == "Wrote activation_patching-1: effect [layer 2, position 7, head 4], top_prob "
                   "[layer 2, position 7, head 4, rank 5], top_token [layer 2, position 7, head 4, "
                   "rank 5] to " + out + " (1 result).\n");
  Output lens = cli("run logit_lens" + model + " --tokens 14,95,96 --append --out " + out);
  REQUIRE(lens.status == 0);
  Session s = load_session(out);
  REQUIRE(s.results.size() == 2);
  CHECK(s.results[0].probe == "activation_patching");
  CHECK(s.results[0].meta["options"]["target"] == "z");
  CHECK(s.results[0].meta["inputs"]["wrong_id"] == 98);
  CHECK(s.results[1].array("top_token").shape == std::vector<int64_t>{3, 3, 5});

  // What the probe does not declare, or cannot use, is named before the model loads.
  Output missing = cli("run path_patching" + model + " --tokens 1,2 --answer-id 3 --out " + out);
  CHECK(missing.status != 0);
  CHECK(missing.out == "mechscope-cli run: The probe 'path_patching' needs --corrupt or "
                       "--corrupt-tokens (see --help).\n");
  Output bad = cli("run activation_patching" + model + inputs + " --option target=neurons --out " + out);
  CHECK_THAT(bad.out, Catch::Contains("allowed values are resid_pre"));
  Output unknown = cli("run activation_patching" + model + inputs + " --option colour=red --out " + out);
  CHECK_THAT(unknown.out, Catch::Contains("Unknown option 'colour'; this probe takes: target"));
  Output no_probe = cli("run sideways" + model + " --out " + out);
  CHECK_THAT(no_probe.out, Catch::Contains("No probe named 'sideways'; known probes: attention"));
  Output undeclared = cli("run logit_lens" + model + " --tokens 1,2 --corrupt-tokens 1,3 --out " + out);
  CHECK_THAT(undeclared.out, Catch::Contains("Unknown option --corrupt-tokens"));
  Output counts = cli("run activation_patching" + model +
                      " --tokens 1,2,3 --corrupt-tokens 1,2 --answer-id 4 --out " + out);
  CHECK_THAT(counts.out, Catch::Contains("corrupted prompt has 2 tokens and the prompt 3"));
  Output help = cli("run activation_patching --help");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--corrupt TEXT") && Catch::Contains("per_position"));
  CHECK_THAT(cli("run logit_lens --help").out, !Catch::Contains("--corrupt"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli: images for vision-language models, and the head and knockout probes", "[cli]") {
  const auto dir = scratch_path("cli_image");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string vlm = " --model " + (source_dir() / "data" / "models" / "mechscope-tiny-vlm").string();
  const std::string png = (golden_dir() / "images" / "shapes.png").string();
  const std::string jpg96 = (golden_dir() / "images" / "shapes_96.jpg").string();
  // shapes.png: a red circle top-left, a blue square middle-right; the 96-pixel JPEG is resized.
  Output color = cli("generate" + vlm + " --prompt 'What color is the circle ?' --image " + jpg96 +
                     " --max-new-tokens 1");
  REQUIRE(color.status == 0);
  CHECK_THAT(color.out, Catch::EndsWith("? red\n"));
  Output where = cli("generate" + vlm + " --prompt '<image> Where is the square ?' --image " + png +
                     " --max-new-tokens 1");
  CHECK_THAT(where.out, Catch::EndsWith("? right\n"));
  const std::string h5 = (dir / "c.h5").string();
  Output cache = cli("cache" + vlm + " --prompt 'Is there a red circle ?' --image " + png +
                     " --names blocks.0.hook_resid_pre --out " + h5);
  REQUIRE(cache.status == 0);
  CHECK(read_h5(h5, "/logits").size(1) == 7 + 36);  // BOS, 36 image positions, 6 words
  const std::string out = (dir / "s.mscope").string();
  Output attn = cli("run attention" + vlm + " --prompt 'What shape is the blue one ?' --image " + png +
                    " --out " + out);
  REQUIRE(attn.status == 0);
  CHECK_THAT(attn.out, Catch::Contains("pattern [layer 3, head 4, query 44, key 44]"));
  Output flow = cli("run information_flow" + vlm + " --prompt 'What color is the circle ?' --image " +
                    png + " --append --out " + out);
  REQUIRE(flow.status == 0);
  CHECK_THAT(flow.out, Catch::Contains("relative_change [flow 4, layer 3]") &&
                           Catch::Contains("patch_relevance [layer 3, patch 36]"));
  Output text_model = cli("generate --prompt hi --image " + png);
  CHECK(text_model.status != 0);
  CHECK_THAT(text_model.out, Catch::Contains("not a vision-language model"));
  Output not_image = cli("generate" + vlm + " --prompt hi --image " + h5);
  CHECK_THAT(not_image.out, Catch::Contains("c.h5") && Catch::Contains("not a PNG or JPEG"));

  const std::string model = " --model " + golden_model("gpt2").string();
  Output heads = cli("run head_detector" + model + " --option examples=4 --option length=8 --append --out " + out);
  REQUIRE(heads.status == 0);
  CHECK_THAT(heads.out, Catch::Contains("induction_offset [layer 2, head 4, offset 5]"));
  Output knock = cli("run attention_knockout" + model +
                     " --tokens 14,95,96,87,111,10,114 --option from=1:3 --option to=last "
                     "--option window=2 --append --out " + out);
  REQUIRE(knock.status == 0);
  CHECK_THAT(knock.out, Catch::Contains("relative_change [layer 2]"));
  Output role = cli("run attention_knockout" + model + " --tokens 14,95,96 --option from=subject --out " + out);
  CHECK_THAT(role.out, Catch::Contains("no 'subject' positions"));
  Session s = load_session(out);
  CHECK(s.results.size() == 4);
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli sae-train writes an SAELens folder with training.json, and names bad options",
          "[cli][sae_train]") {
  const auto dir = scratch_path("cli_sae_train");
  std::filesystem::remove_all(dir);
  const std::string out = (dir / "sae").string();
  const std::string common = " --hook blocks.2.hook_resid_pre --latents 32 --steps 30 "
                             "--batch-size 64 --buffer 512 --eval-prompts 8 --seed 2";
  Output o = cli("sae-train --task induction" + common + " --out " + out);
  INFO(o.out);
  REQUIRE(o.status == 0);
  CHECK_THAT(o.out, Catch::Contains("step 30/30 loss"));  // progress (stderr)
  CHECK_THAT(o.out, Catch::Contains("Trained 30 steps (relu, 32 latents) on blocks.2.hook_resid_pre"));
  CHECK_THAT(o.out, Catch::Contains("explained variance") && Catch::Contains("L0") &&
                        Catch::Contains("dead latents") && Catch::Contains("CE loss SAE spliced"));
  CHECK_THAT(o.out, Catch::Contains("Wrote " + out));
  for (const char* f : {"cfg.json", "sae_weights.safetensors", "training.json", "checkpoint.safetensors"})
    CHECK(std::filesystem::exists(dir / "sae" / f));
  const auto cfg = nlohmann::json::parse(read_text_file(dir / "sae" / "cfg.json"));
  CHECK(cfg.at("architecture") == "standard");
  CHECK(cfg.at("d_in") == 128);
  CHECK(cfg.at("d_sae") == 32);
  CHECK(cfg.at("metadata").at("hook_name") == "blocks.2.hook_resid_pre");
  CHECK(cfg.at("metadata").at("model_name") == "mechscope-tiny-text");
  const auto log = nlohmann::json::parse(read_text_file(dir / "sae" / "training.json"));
  const auto& recipe = log.at("recipe");
  CHECK(recipe.at("hook") == "blocks.2.hook_resid_pre");
  CHECK(recipe.at("task") == "induction");
  CHECK(recipe.at("latents") == 32);
  CHECK(recipe.at("steps") == 30);
  CHECK(recipe.at("batch_size") == 64);
  CHECK(recipe.at("architecture") == "relu");
  CHECK(recipe.at("l1").is_number());
  CHECK(recipe.at("lr").is_number());
  CHECK(log.at("seed") == 2);
  CHECK_THAT(log.at("model").at("path").get<std::string>(), Catch::Contains("mechscope-tiny-text"));
  CHECK(log.at("model").at("hash").get<std::string>().size() == 64);
  for (const char* key : {"started", "finished"}) CHECK(log.at(key).is_string());
  CHECK(log.at("wall_seconds").get<double>() > 0);
  for (const char* key : {"mse", "explained_variance", "l0", "dead_fraction", "ce_loss_clean",
                          "ce_loss_spliced", "ce_loss_zero_ablation"})
    CHECK(log.at("metrics").at(key).is_number());
  // The same command again continues the finished checkpoint (and only measures).
  Output again = cli("sae-train --task induction" + common + " --out " + out);
  CHECK(again.status == 0);
  CHECK_THAT(again.out, Catch::Contains("resumed from step 30"));

  auto error = [](const std::string& args) {
    Output e = cli("sae-train " + args);
    CHECK(e.status == 1);
    return e.out;
  };
  CHECK(error("--task induction --latents 8 --out " + out) ==
        "mechscope-cli sae-train: Missing required option --hook.\n");
  const std::string unknown = error("--task induction --latents 8 --hook blocks.9.hook_resid_pre --out " + out);
  CHECK_THAT(unknown, Catch::StartsWith("mechscope-cli sae-train: The hook 'blocks.9.hook_resid_pre' "
                                        "is not a hook point of the model"));
  CHECK_THAT(unknown, Catch::Contains("hook_embed, blocks.{0-4}.hook_resid_pre, ") &&
                          Catch::Contains("blocks.{0-4}.hook_mlp_out"));
  CHECK(error("--prompts p.txt --task induction --latents 8 --hook hook_embed --out " + out) ==
        "mechscope-cli sae-train: Give --prompts FILE or --task T, not both.\n");
  CHECK(error("--latents 8 --hook hook_embed --out " + out) ==
        "mechscope-cli sae-train: SAE training needs prompts: give --prompts FILE or --task T.\n");
  CHECK(error("--prompts " + (dir / "none.txt").string() + " --latents 8 --hook hook_embed --out " + out) ==
        "mechscope-cli sae-train: The prompts file " + (dir / "none.txt").string() +
            " does not exist.\n");
  CHECK(error("--task induction --latents 8 --arch topk --l1 2 --hook hook_embed --out " + out) ==
        "mechscope-cli sae-train: --l1 applies to --arch relu only (topk's sparsity is --k).\n");
  CHECK(error("--task induction --latents 8 --arch jumprelu --hook hook_embed --out " + out) ==
        "mechscope-cli sae-train: --arch takes relu or topk, got 'jumprelu'.\n");
  CHECK_THAT(error("--task induction" + common + " --latents 16 --out " + out),
             Catch::Contains("belongs to a different recipe (latents 32 there, 16 now)"));
  std::filesystem::remove_all(dir);
}
