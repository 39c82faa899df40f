// The embedded default models load and reach their card's accuracy on a fresh held-out sample.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/io/mapped_file.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "probes/training/evaluate.h"

using namespace mechscope;

namespace {

void check_against_card(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir / "card.json")) {
    WARN("No embedded model with a card at " << dir << ": skipping");
    return;
  }
  auto model = load_model(dir);
  auto card = nlohmann::json::parse(read_text_file(dir / "card.json"));
  auto log = nlohmann::json::parse(read_text_file(dir / "training.json"));
  const int64_t max_words = log["recipe"]["max_words"].get<int64_t>();
  for (auto it = card["heldout_accuracy"].begin(); it != card["heldout_accuracy"].end(); ++it) {
    // A seed neither training nor the card used.
    auto acc = training::evaluate_tasks(*model, {it.key()}, 200, 99991, max_words);
    INFO(dir.filename() << " " << it.key());
    CHECK(acc[it.key()].accuracy() >= it.value().get<double>() - 0.07);
  }
}

}  // namespace

TEST_CASE("the default text model reaches its card's accuracy", "[default-models]") {
  check_against_card(default_model_path());
}

TEST_CASE("the default vision-language model reaches its card's accuracy", "[default-models]") {
  check_against_card(default_vlm_path());
}
