// The attention probe: its Result holds exactly the model's hook_pattern, with labelled axes and
// the common meta, and it can be cancelled.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <catch2/catch.hpp>

#include "core/model/loader.h"
#include "core/session/fingerprint.h"
#include "core/util/error.h"
#include "probes/attention.h"
#include "tests/test_paths.h"

using namespace mechscope;

namespace {

/// Checks `result` against run_with_cache on the same tokens: same values, rows summing to 1,
/// nothing above the diagonal.
void check_pattern_matches_cache(const Model& model, const std::vector<int64_t>& tokens,
                                 const Result& result) {
  const ModelConfig& c = model.config();
  const int64_t pos = int64_t(tokens.size());
  const Array& pattern = result.array("pattern");
  REQUIRE(pattern.shape == std::vector<int64_t>{c.n_layers, c.n_heads, pos, pos});
  REQUIRE_NOTHROW(result.validate());
  c10::InferenceMode guard;
  const ActivationCache cache = model.run_with_cache(at::tensor(tokens, at::kLong).unsqueeze(0), {},
                                                     names_matching("hook_pattern"));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const at::Tensor want_t =  // [head, q, k]
        cache.at("blocks." + std::to_string(l) + ".attn.hook_pattern")[0]
            .to(at::kFloat)
            .contiguous();
    const auto want = want_t.accessor<float, 3>();
    for (int64_t h = 0; h < c.n_heads; ++h)
      for (int64_t q = 0; q < pos; ++q) {
        double row = 0;
        for (int64_t k = 0; k < pos; ++k) {
          const float got = pattern.at({l, h, q, k});
          CHECK(got == want[h][q][k]);
          if (k > q) CHECK(got == 0.0f);
          row += got;
        }
        CHECK(row == Approx(1.0).margin(1e-5));
      }
  }
}

}  // namespace

TEST_CASE("attention probe: the pattern of a golden model equals hook_pattern", "[probes]") {
  auto model = load_model(test::golden_dir() / "models" / "llama_gqa");
  const std::vector<int64_t> tokens = {3, 17, 5, 9, 22, 4};
  probes::AttentionOptions options;
  options.prompt = "six tokens";
  const Result r = probes::attention_result(*model, tokens, options);
  check_pattern_matches_cache(*model, tokens, r);

  CHECK(r.id == "attention-1");
  CHECK(r.probe == "attention");
  CHECK(r.title == "Attention — six tokens");
  const Array& p = r.array("pattern");
  REQUIRE(p.axes.size() == 4);
  CHECK(p.axes[0].name == "layer");
  CHECK(p.axes[0].labels == std::vector<std::string>{"L0", "L1"});
  CHECK(p.axes[1].name == "head");
  CHECK(p.axes[1].labels == std::vector<std::string>{"H0", "H1", "H2", "H3"});
  CHECK(p.axes[2].name == "query");
  CHECK(p.axes[3].name == "key");
  // No tokenizer in the golden folder: tokens are labelled by id.
  CHECK(p.axes[2].labels == std::vector<std::string>{"3", "17", "5", "9", "22", "4"});

  const nlohmann::json& meta = r.meta;
  CHECK(meta["probe"] == "attention");
  CHECK(meta["options"] == nlohmann::json::object());
  CHECK(meta["inputs"]["prompt"] == "six tokens");
  CHECK(meta["inputs"]["tokens"] == nlohmann::json(tokens));
  CHECK(meta["model"]["name"] == "llama_gqa");
  CHECK(meta["model"]["family"] == "llama");
  CHECK(meta["model"]["hash"] == file_fingerprint(test::golden_dir() / "models" / "llama_gqa"));
  CHECK(meta["mechscope_version"] == MECHSCOPE_VERSION);
  CHECK(meta["created"].get<std::string>().size() == 20);
}

TEST_CASE("attention probe on stories260K labels tokens as the tokenizer decodes them",
          "[probes][fixtures]") {
  if (!test::have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping");
    return;
  }
  const auto dir = test::fixtures_dir() / "stories260K";
  LoadOptions load;
  load.tokenizer = dir / "tok512.bin";
  auto model = load_model(dir / "stories260K.bin", load);
  const std::string prompt = "Once upon a time, Lily met Tom.";
  const std::vector<int64_t> tokens = model->tokenizer()->encode(prompt, true).ids;
  probes::AttentionOptions options;
  options.prompt = prompt;
  const Result r = probes::attention_result(*model, tokens, options);
  check_pattern_matches_cache(*model, tokens, r);

  const Array& p = r.array("pattern");
  REQUIRE(p.axes[2].labels.size() == tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    CHECK(p.axes[2].labels[i] == model->tokenizer()->token_text(tokens[i]));
    CHECK(p.axes[3].labels[i] == p.axes[2].labels[i]);
  }
  CHECK(p.axes[2].labels[0] == model->tokenizer()->token_text(1));  // BOS as its token string
  CHECK(r.meta["model"]["name"] == "stories260K");
  CHECK(r.meta["model"]["hash"] == file_fingerprint(dir / "stories260K.bin"));
}

TEST_CASE("attention probe reports progress per layer and can be cancelled", "[probes]") {
  auto model = load_model(test::golden_dir() / "models" / "gpt2");
  const int64_t layers = model->config().n_layers;
  std::vector<double> seen;
  probes::AttentionOptions options;
  options.progress = [&](double done) {
    seen.push_back(done);
    return true;
  };
  probes::attention_result(*model, {1, 2, 3}, options);
  REQUIRE(seen.size() == size_t(layers) + 1);
  CHECK(seen.front() == 0.0);
  CHECK(seen.back() == 1.0);

  seen.clear();
  options.progress = [&](double done) {
    seen.push_back(done);
    return done == 0.0;  // cancel after the first layer
  };
  CHECK_THROWS_AS(probes::attention_result(*model, {1, 2, 3}, options), Cancelled);
  CHECK(seen.size() == 2);

  CHECK_THROWS_WITH(probes::attention_result(*model, {}, {}),
                    Catch::Contains("at least one token"));
  CHECK_THROWS_AS(probes::attention_result(*model, {model->config().d_vocab}, {}), Error);
}
