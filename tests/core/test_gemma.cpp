// Gemma 1/2/3 beyond the goldens (which test_model_goldens.cpp compares to HF): what the adapters
// read, the extra hook points and weights, config files in the transformers 4.x format, and the
// configurations they refuse.
#include <c10/core/InferenceMode.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/model/weight_processing.h"
#include "core/util/error.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;
namespace fs = std::filesystem;

namespace {

/// A copy of golden `name` whose config.json is edited by `edit`.
fs::path edited_copy(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  const fs::path dir = scratch_path("gemma_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(golden_model(name) / "model.safetensors", dir / "model.safetensors");
  nlohmann::json j = nlohmann::json::parse(std::ifstream(golden_model(name) / "config.json"));
  edit(j);
  std::ofstream(dir / "config.json") << j.dump(2);
  return dir;
}

at::Tensor golden_logits(const Model& model, const std::string& name) {
  SafetensorsFile expected(golden_model(name) / "expected.safetensors");
  return model.forward(expected.tensor("input_ids"));
}

}  // namespace

TEST_CASE("Gemma configs read into the TransformerLens fields", "[model][gemma]") {
  auto g1 = load_model(golden_model("gemma"));
  const ModelConfig& c1 = g1->config();
  CHECK(c1.family == "gemma");
  CHECK(c1.d_head == 24);  // not d_model / n_heads = 16
  CHECK(c1.n_kv_heads == 1);
  CHECK(c1.act == Activation::GeluTanh);
  CHECK(c1.embed_scale == Approx(8.0));
  CHECK(c1.tied_embeddings);
  CHECK_FALSE(c1.use_normalization_before_and_after);
  CHECK_FALSE(c1.sliding_window);

  auto g2 = load_model(golden_model("gemma2"));
  const ModelConfig& c2 = g2->config();
  CHECK(c2.use_normalization_before_and_after);
  CHECK_FALSE(c2.use_qk_norm);
  CHECK(*c2.attn_scale == Approx(std::sqrt(20.0)));
  CHECK(c2.attn_scores_soft_cap == 5.0);
  CHECK(c2.output_logits_soft_cap == 3.0);
  CHECK(*c2.sliding_window == 5);
  const std::vector<AttnType> lgl = {AttnType::Local, AttnType::Global, AttnType::Local};
  CHECK((c2.attn_types == lgl));
  const nlohmann::json j2 = c2.to_json();
  CHECK(j2["attn_types"] == nlohmann::json({"local", "global", "local"}));
  CHECK(j2["attn_scores_soft_cap"] == 5.0);
  CHECK(j2["output_logits_soft_cap"] == 3.0);
  CHECK(j2["use_normalization_before_and_after"] == true);
  CHECK(j2["embed_scale"] == Approx(8.0));

  auto g3 = load_model(golden_model("gemma3"));
  const ModelConfig& c3 = g3->config();
  CHECK(c3.use_qk_norm);
  CHECK(c3.rotary_base == 1e6);
  CHECK(*c3.rotary_base_local == 1e4);
  CHECK(c3.rope_scaling.type == "linear");
  CHECK(c3.rope_scaling.factor == 4.0);
  CHECK(c3.attn_scores_soft_cap == 0);
  CHECK(c3.output_logits_soft_cap == 0);
  const std::vector<AttnType> llg = {AttnType::Local, AttnType::Local, AttnType::Global};
  CHECK((c3.attn_types == llg));
  CHECK(c3.to_json()["rotary_base_local"] == 1e4);
  CHECK(c3.to_json()["use_qk_norm"] == true);
}

TEST_CASE("Gemma hook points and weights have TransformerLens names", "[model][gemma]") {
  c10::InferenceMode guard;
  auto g3 = load_model(golden_model("gemma3"));
  const HookPoints& p = g3->hook_points();
  for (const char* n : {"blocks.1.attn.q_norm.hook_scale", "blocks.1.attn.q_norm.hook_normalized",
                        "blocks.1.attn.k_norm.hook_scale", "blocks.1.attn.k_norm.hook_normalized",
                        "blocks.1.ln1_post.hook_scale", "blocks.1.ln1_post.hook_normalized",
                        "blocks.1.ln2_post.hook_scale", "blocks.1.ln2_post.hook_normalized"}) {
    INFO(n);
    CHECK(std::find(p.ordered().begin(), p.ordered().end(), n) != p.ordered().end());
  }
  auto g1 = load_model(golden_model("gemma"));
  CHECK_FALSE(g1->hook_points().has(HookKind::Ln1PostNormalized, 0));
  CHECK_FALSE(g1->hook_points().has(HookKind::QNormScale, 0));

  // Stored gains w are loaded as the scale 1 + w.
  SafetensorsFile file(golden_model("gemma3") / "model.safetensors");
  auto stored = [&](const std::string& n) { return file.tensor(n, at::kFloat); };
  CHECK(max_abs_diff(g3->weight("blocks.0.ln1_post.w"),
                     stored("model.layers.0.post_attention_layernorm.weight") + 1) == 0);
  CHECK(max_abs_diff(g3->weight("blocks.0.ln2.w"),
                     stored("model.layers.0.pre_feedforward_layernorm.weight") + 1) == 0);
  CHECK(max_abs_diff(g3->weight("blocks.2.attn.k_norm.w"),
                     stored("model.layers.2.self_attn.k_norm.weight") + 1) == 0);
  CHECK(max_abs_diff(g3->weight("ln_final.w"), stored("model.norm.weight") + 1) == 0);
  const auto names = g3->weights().tl_names();
  CHECK(std::count(names.begin(), names.end(), "blocks.2.ln2_post.w") == 1);
  CHECK(std::count(names.begin(), names.end(), "blocks.2.attn.q_norm.w") == 1);

  // The q/k norms' output is what gets rotated; hook_attn_out is the post-norm output.
  SafetensorsFile expected(golden_model("gemma3") / "expected.safetensors");
  ActivationCache cache = g3->run_with_cache(expected.tensor("input_ids"), {}, nullptr);
  const at::Tensor q_norm = cache.at("blocks.0.attn.q_norm.hook_normalized");  // [b, p, H, dh]
  CHECK(max_abs_diff(q_norm * cache.at("blocks.0.attn.q_norm.hook_scale"),
                     cache.at("blocks.0.attn.hook_q")) <= 1e-5);
  const at::Tensor ln1_post = cache.at("blocks.0.ln1_post.hook_normalized");
  CHECK(max_abs_diff(ln1_post * g3->weight("blocks.0.ln1_post.w"),
                     cache.at("blocks.0.hook_attn_out")) <= 1e-5);
  // The unembedding of the last residual stream applies the final soft cap too (Gemma 2).
  auto g2 = load_model(golden_model("gemma2"));
  SafetensorsFile expected2(golden_model("gemma2") / "expected.safetensors");
  at::Tensor logits;
  ActivationCache c2 = g2->run_with_cache(expected2.tensor("input_ids"),
                                          {}, names_matching("hook_resid_post"), &logits);
  CHECK(max_abs_diff(g2->unembed(c2.at("blocks.2.hook_resid_post")), logits) <= 1e-5);
  CHECK(logits.abs().max().item<double>() < 3.0);
}

TEST_CASE("Gemma config files in the transformers 4.x format load the same model",
          "[model][gemma]") {
  c10::InferenceMode guard;
  // Gemma 3: rope_theta / rope_scaling (global), rope_local_base_freq and sliding_window_pattern
  // instead of per-layer-type rope_parameters and layer_types.
  const fs::path g3 = edited_copy("gemma3", [](nlohmann::json& j) {
    j.erase("rope_parameters");
    j.erase("layer_types");
    j["rope_theta"] = 1e6;
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4.0}};
    j["rope_local_base_freq"] = 1e4;
    j["sliding_window_pattern"] = 3;
  });
  auto old3 = load_model(g3);
  auto new3 = load_model(golden_model("gemma3"));
  CHECK((old3->config().attn_types == new3->config().attn_types));
  CHECK(max_abs_diff(golden_logits(*old3, "gemma3"), golden_logits(*new3, "gemma3")) == 0);
  // Gemma 2 without layer_types: even layers local (HF's default).
  const fs::path g2 = edited_copy("gemma2", [](nlohmann::json& j) { j.erase("layer_types"); });
  auto old2 = load_model(g2);
  CHECK(max_abs_diff(golden_logits(*old2, "gemma2"),
                     golden_logits(*load_model(golden_model("gemma2")), "gemma2")) == 0);
  // Null soft caps and window switch them off.
  auto plain = load_model(edited_copy("gemma2", [](nlohmann::json& j) {
    j["attn_logit_softcapping"] = nullptr;
    j["final_logit_softcapping"] = nullptr;
    j["sliding_window"] = nullptr;
  }));
  CHECK(plain->config().attn_scores_soft_cap == 0);
  CHECK(plain->config().output_logits_soft_cap == 0);
  CHECK_FALSE(plain->config().has_local_layers());
  fs::remove_all(g3);
  fs::remove_all(g2);  // (the last copy)
}

TEST_CASE("Gemma configurations that are not supported are refused", "[model][gemma]") {
  CHECK_THROWS_WITH(load_model(edited_copy("gemma3", [](nlohmann::json& j) {
                      j["use_bidirectional_attention"] = true;
                    })),
                    Catch::Contains("use_bidirectional_attention"));
  CHECK_THROWS_WITH(load_model(edited_copy("gemma2", [](nlohmann::json& j) {
                      j["layer_types"] = {"sliding_attention", "chunked", "full_attention"};
                    })),
                    Catch::Contains("Unsupported layer type"));
  CHECK_THROWS_WITH(load_model(edited_copy("gemma2", [](nlohmann::json& j) {
                      j["layer_types"] = {"sliding_attention"};
                    })),
                    Catch::Contains("one type per layer"));
  CHECK_THROWS_WITH(load_model(edited_copy("gemma3", [](nlohmann::json& j) {
                      j["rope_parameters"]["sliding_attention"]["rope_type"] = "linear";
                    })),
                    Catch::Contains("local layers"));
  fs::remove_all(scratch_path("gemma_gemma2"));
  fs::remove_all(scratch_path("gemma_gemma3"));
}

TEST_CASE("weight processing on Gemma: sandwich and q/k norms keep their gains, soft-capped "
          "logits are not centred",
          "[model][gemma][processing]") {
  c10::InferenceMode guard;
  LoadOptions o;
  o.process = WeightProcessing::parse("all");
  auto g2 = load_model(golden_model("gemma2"), o);
  CHECK(g2->processing() == std::vector<std::string>{"fold_ln", "fold_value_biases"});
  auto g3 = load_model(golden_model("gemma3"), o);
  CHECK(g3->processing() ==
        std::vector<std::string>{"fold_ln", "center_unembed", "fold_value_biases"});
  CHECK(max_abs_diff(g3->weight("blocks.0.ln1.w"), at::ones({64})) == 0);
  CHECK(max_abs_diff(g3->weight("blocks.0.ln1_post.w"), at::ones({64})) > 0.01);
  CHECK(max_abs_diff(g3->weight("blocks.0.attn.q_norm.w"), at::ones({32})) > 0.01);
  // Log-probabilities unchanged (the generic test covers every golden; here the logits too).
  auto plain = load_model(golden_model("gemma2"));
  CHECK(max_abs_diff(golden_logits(*g2, "gemma2"), golden_logits(*plain, "gemma2")) <= 1e-4);
}
