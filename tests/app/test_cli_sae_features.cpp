// `mechscope-cli run sae_features` on the default text model with a random SAE saved as an
// SAELens folder: the session holds the contract arrays, and `export` draws its view.
#include <ATen/ATen.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "tests/app/cli_run.h"
#include "core/model/default_model.h"
#include "core/sae/sae_io.h"
#include "core/session/session.h"
#include "tests/test_paths.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

using Output = test::CliOutput;

}  // namespace

TEST_CASE("cli run sae_features writes the SAE's features to a session", "[cli][sae_features]") {
  const fs::path dir = scratch_path("cli_sae_features");
  fs::remove_all(dir);
  at::manual_seed(5);
  sae::Sae s;
  s.cfg.hook_name = "blocks.3.hook_resid_post";
  s.cfg.d_in = 128;
  s.cfg.d_sae = 64;
  s.W_enc = at::randn({128, 64}) / std::sqrt(128.0);
  s.W_dec = at::randn({64, 128}) / 8.0;
  s.b_enc = at::zeros({64});
  s.b_dec = at::zeros({128});
  sae::save_sae(s, dir / "sae");
  const std::string out = (dir / "s.mscope").string();
  const Output run = test::cli("run sae_features --model " + default_model_path().string() +
                             " --prompt 'When Mary and John went to the store' --option sae=" +
                             (dir / "sae").string() + " --option top_k=4 --out " + out);
  INFO(run.out);
  REQUIRE(run.status == 0);
  CHECK_THAT(run.out, Catch::Contains("feature_acts [position 9, latent 64]") &&
                          Catch::Contains("top_features [position 9, rank 4]"));
  const Session session = load_session(out);
  REQUIRE(session.results.size() == 1);
  const Result& r = session.results[0];
  CHECK(r.probe == "sae_features");
  CHECK(r.array("reconstruction_error").shape == std::vector<int64_t>{9});
  CHECK(r.meta["hook"] == "blocks.3.hook_resid_post");
  CHECK(r.meta["options"]["top_k"] == 4);

  const Output wrong = test::cli("run sae_features --model " + default_model_path().string() +
                               " --prompt 'Mary' --out " + out);
  CHECK(wrong.status != 0);
  CHECK_THAT(wrong.out, Catch::Contains("--option sae=DIR"));

  if (test::cli("--help").out.find("  export ") != std::string::npos) {
    const Output fig = test::cli("export " + out + " --out " + (dir / "figs").string() +
                               " --formats png --width 700");
    INFO(fig.out);
    CHECK(fig.status == 0);
    CHECK(fs::file_size(dir / "figs" / "sae_features-1.png") > 1000);
  }
  fs::remove_all(dir);
}
