// --sae / --sae-error / --steer on the commands that run the model, and SAE-feature patching
// from the command line.
#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "tests/app/cli_run.h"
#include "core/sae/sae_io.h"
#include "core/session/session.h"
#include "tests/core/model_test_utils.h"
#include "tests/sae_test_utils.h"

using namespace mechscope;

namespace {

using Output = test::CliOutput;

}  // namespace

TEST_CASE("cli: --sae splices an SAE into generate and run, --steer adds its directions",
          "[cli][sae]") {
  const auto dir = test::scratch_path("cli_sae_splice");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto sae_dir = dir / "sae";
  sae::save_sae(test::random_sae("blocks.1.hook_resid_pre", 32, 24, 7), sae_dir);
  const std::string model = " --model " + test::golden_model("gpt2").string();
  const std::string sae = " --sae " + sae_dir.string();

  const Output plain = test::cli("generate" + model + " --tokens 14,95,96 --max-new-tokens 6");
  REQUIRE(plain.status == 0);
  // With the error term the model is unchanged: the same tokens.
  const Output same = test::cli("generate" + model + sae + " --sae-error --tokens 14,95,96 "
                              "--max-new-tokens 6");
  REQUIRE(same.status == 0);
  CHECK(same.out == plain.out);
  const Output spliced = test::cli("generate" + model + sae + " --tokens 14,95,96 --max-new-tokens 6");
  CHECK(spliced.status == 0);
  const Output steered = test::cli("generate" + model + sae +
                                 " --sae-keep --steer 3=40 --steer 5=-40 --tokens 14,95,96 "
                                 "--max-new-tokens 6");
  CHECK(steered.status == 0);
  CHECK(steered.out != plain.out);  // a large push changes the continuation

  const std::string out = (dir / "s.mscope").string();
  const Output lens = test::cli("run logit_lens" + model + sae + " --sae-error --steer 2=0.5"
                              " --tokens 14,95,96 --out " + out);
  REQUIRE(lens.status == 0);
  const std::string inputs = " --tokens 14,95,96,87,111,10,114 --corrupt-tokens "
                             "14,95,55,87,48,10,114 --answer-id 75 --wrong-id 98";
  const Output patch = test::cli("run activation_patching" + model + inputs +
                               " --option target=sae_feature --option sae=" + sae_dir.string() +
                               " --append --out " + out);
  REQUIRE(patch.status == 0);
  CHECK_THAT(patch.out, Catch::Contains("effect [position 7, latent 24]"));
  const Session s = load_session(out);
  REQUIRE(s.results.size() == 2);
  CHECK(s.results[0].meta["standing_hooks"]["hook"] == "blocks.1.hook_resid_pre");
  CHECK(s.results[0].meta["standing_hooks"]["steer"] == nlohmann::json::parse("[[2, 0.5]]"));
  CHECK(!s.results[1].meta.contains("standing_hooks"));
  CHECK(s.results[1].meta["sae"]["d_sae"] == 24);

  // Mistakes are named.
  CHECK_THAT(test::cli("generate" + model + " --steer 3=1 --tokens 1").out,
             Catch::Contains("need --sae DIR"));
  CHECK_THAT(test::cli("generate" + model + sae + " --steer 3 --tokens 1").out,
             Catch::Contains("--steer takes FEATURE=SCALE") && Catch::Contains("'3'"));
  CHECK_THAT(test::cli("generate" + model + sae + " --steer 99=1 --tokens 1").out,
             Catch::Contains("no feature 99"));
  CHECK_THAT(test::cli("generate" + model + " --sae " + (dir / "nowhere").string() + " --tokens 1").out,
             Catch::Contains((dir / "nowhere").string()));
  const auto other = dir / "other";
  sae::save_sae(test::random_sae("blocks.7.hook_resid_pre", 32, 8, 1), other);
  CHECK_THAT(test::cli("generate" + model + " --sae " + other.string() + " --tokens 1").out,
             Catch::Contains("blocks.7.hook_resid_pre") && Catch::Contains("does not have"));
  std::filesystem::remove_all(dir);
}
