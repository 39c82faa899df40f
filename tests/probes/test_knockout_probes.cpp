// attention_knockout and information_flow (probes/knockout.h): exact checks against a direct
// masked attention computation, the empty window, position roles, and the two probes agreeing.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "tests/error_of.h"
#include "core/image/image_file.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/model/vision.h"
#include "probes/knockout.h"
#include "probes/position_roles.h"
#include "probes/ablation.h"
#include "probes/registry.h"
#include "probes/retrieval_heads.h"
#include "probes/run_probe.h"
#include "tests/test_paths.h"

namespace mechscope::test {
namespace {

Result run(const std::string& probe, const Model& m, const probes::ProbeInputs& in,
           const nlohmann::json& options) {
  return probes::run_probe(probes::ProbeRegistry::builtin().get(probe), m, in, options);
}

}  // namespace

TEST_CASE("a knockout equals attention computed by hand with the edges masked", "[probes]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_dir() / "models" / "gpt2");
  const ModelConfig& c = m->config();
  probes::ProbeInputs in;
  in.tokens = {14, 95, 96, 87, 111, 10, 114, 3};
  in.answer_id = 75;
  const int64_t T = int64_t(in.tokens.size()), last = c.n_layers - 1;
  // Keys 1, 2 and 4 blocked from queries 5 and 7, in the last layer only (window 1).
  const Result r = run("attention_knockout", *m, in,
                       {{"from", "1:3,4"}, {"to", "5,-1"}, {"window", 1}});
  const Array& change = r.array("relative_change");
  REQUIRE(change.shape == std::vector<int64_t>{c.n_layers});

  // By hand: the last layer's q, k, v of the clean run (earlier layers are unchanged), scores
  // with the causal mask and the blocked edges at −∞, softmax, z — patched into hook_z.
  const at::Tensor tokens = at::tensor(in.tokens, at::kLong).unsqueeze(0);
  const std::string p = "blocks." + std::to_string(last) + ".attn.";
  auto cache = m->run_with_cache(tokens, {}, names_matching(p + "hook_[qkv]"));
  const at::Tensor q = cache.at(p + "hook_q")[0].transpose(0, 1);  // [head, T, d_head]
  const at::Tensor k = cache.at(p + "hook_k")[0].transpose(0, 1);
  const at::Tensor v = cache.at(p + "hook_v")[0].transpose(0, 1);
  at::Tensor scores = at::matmul(q, k.transpose(1, 2)) / std::sqrt(double(c.d_head));
  at::Tensor masked = at::ones({T, T}, at::kBool).triu(1);
  for (int64_t qi : {5, 7})
    for (int64_t ki : {1, 2, 4}) masked[qi][ki] = true;
  scores = scores.masked_fill(masked, -std::numeric_limits<float>::infinity());
  const at::Tensor z = at::matmul(at::softmax(scores, -1), v).transpose(0, 1).unsqueeze(0);
  HookSet patch;
  patch.add(p + "hook_z", [&](HookCall& h) { h.value = z; });
  const at::Tensor probs = at::softmax(m->run(tokens, {}, &patch).logits[0][T - 1], -1);
  const at::Tensor clean = at::softmax(m->run(tokens).logits[0][T - 1], -1);
  const double want = (probs[75].item<double>() - clean[75].item<double>()) / clean[75].item<double>();
  CHECK(change.data.back() == Approx(want).margin(1e-5));
  CHECK(std::abs(want) > 1e-4);  // the knockout did something
  // Centres whose window misses the last layer knock out only there: layer L-2's window is
  // {L-2}, so its change differs; and the meta lists the parsed positions.
  CHECK(r.meta["first_prompt_positions"]["from"] == nlohmann::json({1, 2, 4}));
  CHECK(r.meta["first_prompt_positions"]["to"] == nlohmann::json({5, 7}));
  CHECK(r.meta["answer_source"] == "given");
}

TEST_CASE("a window covering no layer changes nothing", "[probes]") {
  auto m = load_model(golden_dir() / "models" / "llama_gqa");
  probes::ProbeInputs in;
  in.tokens = {1, 14, 95, 96, 87, 111, 10};
  const Result r = run("attention_knockout", *m, in, {{"from", "0:5"}, {"to", "last"}, {"window", 0}});
  for (float x : r.array("relative_change").data) CHECK(x == 0.0f);
  // The same edges in a real window do change the answer.
  const Result w = run("attention_knockout", *m, in, {{"from", "0:5"}, {"to", "last"}, {"window", 2}});
  float most = 0;
  for (float x : w.array("relative_change").data) most = std::max(most, std::abs(x));
  CHECK(most > 1e-3f);
  CHECK(w.meta["answer_source"] == "prediction");
}

TEST_CASE("position sets: roles, indices, ranges and clear errors", "[probes]") {
  const probes::PositionRoles roles = {{"last", {9}}, {"question", {5, 6, 7, 8}}};
  CHECK(probes::parse_positions("question", roles, 10) == std::vector<int64_t>{5, 6, 7, 8});
  CHECK(probes::parse_positions("1, -1, 2:4", roles, 10) == std::vector<int64_t>{1, 2, 3, 9});
  CHECK(probes::parse_positions("8:10,last", roles, 10) == std::vector<int64_t>{8, 9});
  CHECK_THAT(error_of([&] { probes::parse_positions("subject", roles, 10); }),
             Catch::Contains("no 'subject'") && Catch::Contains("last, question"));
  CHECK_THAT(error_of([&] { probes::parse_positions("12", roles, 10); }),
             Catch::Contains("outside the prompt's 10 positions"));
  CHECK(probes::window_layers(2, 3, 5) == std::vector<int64_t>{1, 2, 3});
  CHECK(probes::window_layers(0, 3, 5) == std::vector<int64_t>{0, 1});
  CHECK(probes::window_layers(4, 4, 5) == std::vector<int64_t>{3, 4});
  CHECK(probes::window_layers(1, 0, 5).empty());
}

TEST_CASE("task roles: subject and question of a needle prompt", "[probes]") {
  auto m = load_model(default_model_path());
  const auto prompts = probes::task_prompts(*m, "needle", 3, 5);
  REQUIRE(prompts.size() == 3);
  for (const auto& p : prompts) {
    const auto& q = p.roles.at("question");
    CHECK(q.back() == int64_t(p.tokens.size()) - 2);
    CHECK(m->tokenizer()->token_string(p.tokens[size_t(q.front())]) == "What");
    CHECK(p.roles.at("subject").size() >= 7);  // the needle sentence
  }
  CHECK_THAT(error_of([&] { probes::task_prompts(*m, "nope", 1, 0); }), Catch::Contains("ioi"));
}

TEST_CASE("information_flow on the default VLM: four flows, patch relevance, agreement with "
          "attention_knockout", "[probes]") {
  auto m = load_model(default_vlm_path());
  const nlohmann::json task = {{"task", "shapes_vqa"}, {"examples", 6}, {"seed", 3}, {"window", 1}};
  const Result r = run("information_flow", *m, {}, task);
  const int64_t L = m->config().n_layers;
  REQUIRE(r.array("relative_change").shape == std::vector<int64_t>{4, L});
  REQUIRE(r.array("patch_relevance").shape == std::vector<int64_t>{L, 36});
  CHECK(r.array("image").shape == std::vector<int64_t>{48, 48, 3});
  CHECK(r.meta["examples_kept"].get<int64_t>() >= 5);
  // Image→Question equals attention_knockout from=image to=question on the same examples.
  nlohmann::json k = task;
  k["from"] = "image", k["to"] = "question";
  const Result a = run("attention_knockout", *m, {}, k);
  for (int64_t l = 0; l < L; ++l)
    CHECK(r.array("relative_change").at({0, l}) == Approx(a.array("relative_change").at({l})).margin(1e-5));
  // One region covering the whole image is the knockout image → question and last.
  nlohmann::json whole = task;
  whole["region"] = 6;
  const Result w = run("information_flow", *m, {}, whole);
  k["to"] = "question,last";
  const Result b = run("attention_knockout", *m, {}, k);
  for (int64_t l = 0; l < L; ++l)
    for (int64_t patch : {0, 17, 35})
      CHECK(w.array("patch_relevance").at({l, patch}) ==
            Approx(b.array("relative_change").at({l})).margin(1e-5));
  // image_object and image_background split the image's 36 positions.
  const auto prompts = probes::task_prompts(*m, "shapes_vqa", 6, 3);
  for (const auto& p : prompts)
    if (p.roles.count("image_object")) {
      CHECK(p.roles.at("image_object").size() == 4);  // a 16-pixel cell is 2 × 2 patches
      CHECK(p.roles.at("image_background").size() == 32);
    }
  CHECK_THAT(error_of([&] { run("information_flow", *load_model(default_model_path()), {}, {{"task", "ioi"}}); }),
             Catch::Contains("needs a vision-language model"));
}

TEST_CASE("images: PNG and JPEG files decode, bad files are named", "[probes]") {
  const RgbImage png = read_image_file(golden_dir() / "images" / "shapes.png");
  CHECK(png.width == 48);
  CHECK(png.height == 48);
  const RgbImage jpg = read_image_file(golden_dir() / "images" / "shapes.jpg");
  CHECK(jpg.width == 48);
  double diff = 0;
  for (size_t i = 0; i < png.rgb.size(); ++i) diff += std::abs(int(png.rgb[i]) - int(jpg.rgb[i]));
  CHECK(diff / double(png.rgb.size()) < 12.0);  // lossy, but the same picture
  const uint8_t junk[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H'};
  CHECK_THAT(error_of([&] { decode_image(junk, sizeof junk, "broken.png"); }),
             Catch::Contains("broken.png") && Catch::Contains("PNG"));
  const uint8_t text[] = {'h', 'e', 'l', 'l', 'o'};
  CHECK_THAT(error_of([&] { decode_image(text, sizeof text, "notes.txt"); }),
             Catch::Contains("not a PNG or JPEG"));
  const uint8_t jpeg_head[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
  CHECK_THAT(error_of([&] { decode_image(jpeg_head, sizeof jpeg_head, "cut.jpg"); }),
             Catch::Contains("cut.jpg") && Catch::Contains("JPEG"));
  CHECK_THAT(error_of([&] { read_image_file("/nonexistent/x.png"); }), Catch::Contains("x.png"));
}

TEST_CASE("a prompt with an image: the image token is expanded, or inserted after BOS", "[probes]") {
  auto vlm = load_model(default_vlm_path());
  const RgbImage image = read_image_file(golden_dir() / "images" / "shapes.png");
  probes::ProbeInputs in;
  in.tokens = vlm->tokenizer()->encode("What color is the circle ?").ids;
  in.image_rgb = image;
  probes::prepare_image_tokens(*vlm, in);
  const int64_t n_image = vlm->vision()->tokens_per_image();
  REQUIRE(int64_t(in.tokens.size()) == 7 + n_image);
  CHECK(in.tokens[0] == *vlm->config().bos_token_id);
  CHECK(in.tokens[1] == *vlm->image_token_id());
  CHECK(in.tokens[size_t(n_image)] == *vlm->image_token_id());
  probes::ProbeInputs no_image;
  no_image.tokens = vlm->tokenizer()->encode("<image> What color is the circle ?").ids;
  CHECK_THAT(error_of([&] { probes::prepare_image_tokens(*vlm, no_image); }),
             Catch::Contains("no image was given"));
  // Probes that read images run the vision path; the others refuse an image token.
  probes::ProbeInputs lens;
  lens.tokens = vlm->tokenizer()->encode("What color is the circle ?").ids;
  lens.image_rgb = image;
  const Result r = run("logit_lens", *vlm, lens, nullptr);
  CHECK(r.array("top_token").shape[1] == 7 + n_image);
  CHECK(vlm->tokenizer()->token_text(int64_t(r.array("top_token").at({3, 7 + n_image - 1, 0}))) == "red");
  probes::ProbeInputs dla = no_image;
  dla.answer = "red";
  CHECK_THAT(error_of([&] { run("logit_attribution", *vlm, dla, nullptr); }),
             Catch::Contains("does not take images"));
  auto text = load_model(default_model_path());
  probes::ProbeInputs to_text = in;
  CHECK_THAT(error_of([&] { probes::prepare_image_tokens(*text, to_text); }),
             Catch::Contains("not a vision-language model"));
}

}  // namespace mechscope::test

namespace mechscope::test {

TEST_CASE("retrieval score: m argmax hits on the copied token in the span give m / |span|",
          "[probes]") {
  // Span [3, 7) of 10 tokens; the generated token is 42, held at positions 4 and 8.
  const std::vector<int64_t> tokens = {1, 5, 6, 9, 42, 11, 12, 13, 42, 2};
  at::Tensor attn = at::full({2, 3, 10}, 0.01f);
  attn[0][0][4] = 0.9f;  // in the span, on 42: hit
  attn[0][1][8] = 0.9f;  // on 42 but outside the span: no hit
  attn[0][2][5] = 0.9f;  // in the span, another token: no hit
  attn[1][0][4] = 0.5f;  // hit
  attn[1][1][3] = 0.7f;  // in the span, token 9: no hit
  attn[1][2][4] = 0.3f;
  attn[1][2][0] = 0.6f;  // argmax outside: no hit
  at::Tensor total = at::zeros({2, 3}, at::kDouble);
  for (int step = 0; step < 3; ++step) total += probes::retrieval_step(attn, tokens, 3, 7, 42);
  CHECK(total[0][0].item<double>() == Approx(3.0 / 4.0));  // m = 3 steps, |span| = 4
  CHECK(total[1][0].item<double>() == Approx(3.0 / 4.0));
  CHECK(total.sum().item<double>() == Approx(1.5));
  CHECK(probes::rouge1_recall({4, 7, 1}, {4, 1, 9}) == Approx(2.0 / 3.0));
  CHECK(probes::rouge1_recall({4, 4, 1}, {4, 1, 1}) == Approx(2.0 / 3.0));
}

TEST_CASE("uniform masking gives a head equal attention over the positions it may see",
          "[probes]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_dir() / "models" / "llama_gqa");
  HookSet hooks;
  probes::add_uniform_attention(hooks, {{1, 2}});
  at::Tensor seen;
  hooks.add("blocks.1.attn.hook_pattern", [&](HookCall& h) { seen = h.value.clone(); });
  m->run(at::tensor(std::vector<int64_t>{1, 14, 95, 96, 87, 111}, at::kLong).unsqueeze(0), {}, &hooks);
  for (int64_t q = 0; q < 6; ++q)
    for (int64_t k = 0; k < 6; ++k)
      CHECK(seen[0][2][q][k].item<float>() == Approx(k <= q ? 1.0 / double(q + 1) : 0.0).margin(1e-6));
  CHECK(std::abs(seen[0][1][5][0].item<float>() - 1.0f / 6.0f) > 1e-3);  // other heads untouched
}

}  // namespace mechscope::test

namespace mechscope::test {

TEST_CASE("a sweep that cannot fit in memory is refused with the estimate, not killed",
          "[probes]") {
  auto m = load_model(golden_dir() / "models" / "gpt2");
  probes::ProbeInputs in;
  in.tokens = {14, 95, 96, 87, 111, 10, 114};
  in.corrupt_tokens = std::vector<int64_t>{14, 95, 55, 87, 48, 10, 114};
  in.answer_id = 75;
  ::setenv("MECHSCOPE_FAKE_AVAILABLE_MEMORY", "2000", 1);
  const std::string sweep = error_of([&] { run("activation_patching", *m, in, nullptr); });
  const std::string knock = error_of([&] { run("attention_knockout", *m, in, {{"from", "0:3"}}); });
  ::unsetenv("MECHSCOPE_FAKE_AVAILABLE_MEMORY");
  CHECK_THAT(sweep, Catch::Contains("needs") && Catch::Contains("only 2.0 KiB is available"));
  CHECK_THAT(knock, Catch::Contains("only 2.0 KiB is available"));
}

}  // namespace mechscope::test
