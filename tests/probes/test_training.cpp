// The trainer: recipes, schedule, loss going down, determinism, checkpoint + resume, export.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>

#include "core/io/safetensors.h"
#include "core/model/loader.h"
#include "core/util/error.h"
#include "probes/training/trainer.h"
#include "tests/test_paths.h"

using namespace mechscope;
using namespace mechscope::training;
namespace fs = std::filesystem;

namespace {

Recipe tiny_recipe() {
  nlohmann::json j = {
      {"name", "tiny-test"},
      {"seed", 3},
      {"model", {{"d_model", 32}, {"n_layers", 2}, {"n_heads", 4}, {"d_mlp", 64}, {"n_ctx", 64}}},
      {"tasks", {{"laundry_list", 1}, {"colored_objects", 1}}},
      {"max_words", 40},
      {"batch_size", 8},
      {"steps", 40},
      {"lr", 0.003},
      {"warmup_steps", 5},
      {"checkpoint_every", 0},
      {"eval_examples", 20}};
  return parse_recipe(j, "tiny-test");
}

fs::path scratch(const std::string& name) {
  fs::path p = test::scratch_path("train_" + name);
  fs::remove_all(p);
  return p;
}

double max_weight_diff(const fs::path& a, const fs::path& b) {
  SafetensorsFile fa(a / "model.safetensors"), fb(b / "model.safetensors");
  double m = 0;
  for (const auto& n : fa.names())
    m = std::max(m, (fa.tensor(n, at::kFloat) - fb.tensor(n, at::kFloat)).abs().max().item<double>());
  return m;
}

}  // namespace

TEST_CASE("recipes are checked with clear messages", "[training]") {
  auto err = [](nlohmann::json j) {
    try {
      parse_recipe(j, "r.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK_THAT(err({{"tasks", {{"nope", 1}}}}), Catch::Contains("unknown task 'nope'"));
  CHECK_THAT(err({{"tasks", nlohmann::json::object()}}), Catch::Contains("'tasks'"));
  CHECK_THAT(err({{"tasks", {{"ioi", 1}}}, {"model", {{"d_model", 30}, {"n_heads", 4}}}}),
             Catch::Contains("divisible"));
  CHECK_THAT(err({{"tasks", {{"ioi", 1}}}, {"steps", "many"}}), Catch::Contains("wrong type"));
  CHECK_THAT(err({{"tasks", {{"ioi", -1}}}}), Catch::Contains("positive"));
}

TEST_CASE("warm-up then cosine decay", "[training]") {
  Recipe r = tiny_recipe();
  CHECK(r.lr_at(0) == Approx(r.lr / 5));
  CHECK(r.lr_at(4) == Approx(r.lr));
  CHECK(r.lr_at(5) == Approx(r.lr));
  CHECK(r.lr_at(r.steps) == Approx(r.lr * r.min_lr_ratio));
  CHECK(r.lr_at(22) < r.lr_at(10));
}

TEST_CASE("a few steps reduce the loss; the output folder loads like any checkpoint",
          "[training]") {
  const fs::path out = scratch("loss");
  Recipe r = tiny_recipe();
  std::vector<double> losses;
  auto result = train(r, out, false, [&](const TrainProgress& p) {
    losses.push_back(p.loss);
    return true;
  });
  REQUIRE(losses.size() == 40);
  CHECK(losses.back() < losses.front() - 0.5);
  CHECK(result.accuracy.size() == 2);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json",
                        "tokenizer_config.json", "training.json"})
    CHECK(fs::exists(out / f));
  auto model = load_model(out);
  CHECK(model->config().family == "llama");
  CHECK(model->config().d_model == 32);
  REQUIRE(model->tokenizer() != nullptr);
  auto acc = evaluate_tasks(*model, {"laundry_list"}, 20, r.seed + 1000003, r.max_words);
  CHECK(acc["laundry_list"].correct == result.accuracy["laundry_list"].correct);
}

TEST_CASE("training is deterministic and resumes exactly from a checkpoint", "[training]") {
  Recipe r = tiny_recipe();
  r.steps = 12;
  r.checkpoint_every = 4;
  const fs::path a = scratch("det_a"), b = scratch("det_b"), c = scratch("det_c");
  train(r, a, false);
  train(r, b, false);
  CHECK(max_weight_diff(a, b) == 0.0);
  // Interrupted after step 6 (a checkpoint is written), then resumed.
  auto first = train(r, c, false, [](const TrainProgress& p) { return p.step < 6; });
  CHECK(first.cancelled);
  CHECK(first.steps_done == 6);
  CHECK_FALSE(fs::exists(c / "model.safetensors"));
  auto second = train(r, c, true);
  CHECK_FALSE(second.cancelled);
  CHECK(max_weight_diff(a, c) < 1e-6);
}

TEST_CASE("micro-batches sorted by length train like one padded batch", "[training]") {
  Recipe r = tiny_recipe();
  r.steps = 6;
  r.checkpoint_every = 0;
  const fs::path one = scratch("mb_one"), four = scratch("mb_four");
  std::vector<double> loss_one, loss_four;
  train(r, one, false, [&](const TrainProgress& p) {
    loss_one.push_back(p.loss);
    return true;
  });
  r.micro_batches = 4;
  train(r, four, false, [&](const TrainProgress& p) {
    loss_four.push_back(p.loss);
    return true;
  });
  REQUIRE(loss_one.size() == loss_four.size());
  for (size_t i = 0; i < loss_one.size(); ++i) CHECK(loss_four[i] == Approx(loss_one[i]).epsilon(1e-4));
  CHECK(max_weight_diff(one, four) < 1e-4);
  nlohmann::json bad = r.to_json();
  bad["micro_batches"] = 0;
  CHECK_THROWS_WITH(parse_recipe(bad, "r.json"), Catch::Contains("micro_batches"));
}
