// LLaVA (CLIP vision tower + projector + Llama) matches HF transformers on tiny random configs.
#include <c10/core/InferenceMode.h>

#include "core/model/vision.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

TEST_CASE("LLaVA goldens: logits, vision tower, image features and text activations",
          "[model][golden][llava]") {
  c10::InferenceMode guard;
  for (const char* name : {"llava_tiny", "llava_full_layer_last"}) {
    DYNAMIC_SECTION(name) {
      auto model = load_model(golden_model(name));
      REQUIRE(model->vision() != nullptr);
      CHECK(model->config().family == "llava");
      SafetensorsFile expected(golden_model(name) / "expected.safetensors");
      at::Tensor tokens = expected.tensor("input_ids");
      at::Tensor pixels = expected.tensor("pixel_values", at::kFloat);
      CHECK(model->vision()->tokens_per_image() ==
            (tokens[0] == *model->image_token_id()).sum().item<int64_t>());
      at::Tensor logits;
      auto cache = model->run_with_cache(tokens, {}, nullptr, &logits, pixels);
      CHECK(max_abs_diff(logits, expected.tensor("logits", at::kFloat)) <= 1e-4);
      CHECK(max_abs_diff(cache.at("hook_image_features"), expected.tensor("image_features")) <= 1e-4);
      // Our hook_embed is the patch + class embeddings; HF's golden includes the positions.
      CHECK(max_abs_diff(cache.at("vision.hook_embed") + cache.at("vision.hook_pos_embed"),
                         expected.tensor("vision.hook_embed")) <= 1e-5);
      int compared = 0;
      for (const auto& key : expected.names()) {
        if (cache.count(key) == 0 || key == "vision.hook_embed") continue;
        INFO(name << " " << key);
        CHECK(max_abs_diff(cache.at(key), expected.tensor(key, at::kFloat)) <= 1e-4);
        ++compared;
      }
      CHECK(compared >= 20);
    }
  }
}

TEST_CASE("LLaVA: preprocessing raw images as preprocessor_config.json says", "[llava]") {
  auto model = load_model(golden_model("llava_tiny"));
  SafetensorsFile expected(golden_model("llava_tiny") / "expected.safetensors");
  at::Tensor raw = expected.tensor("raw_image").contiguous();  // [2, S, S, 3] uint8
  at::Tensor want = expected.tensor("pixel_values", at::kFloat);
  for (int64_t b = 0; b < raw.size(0); ++b) {
    at::Tensor img = raw[b].contiguous();
    at::Tensor got = preprocess_image(img.data_ptr<uint8_t>(), img.size(0), img.size(1),
                                      model->vision()->preprocess());
    CHECK(max_abs_diff(got, want[b]) <= 1e-6);
  }
  // A larger image is resized and centre-cropped to the tower's size.
  at::Tensor big = at::randint(0, 256, {48, 64, 3}, at::kByte).contiguous();
  at::Tensor p = preprocess_image(big.data_ptr<uint8_t>(), 48, 64, model->vision()->preprocess());
  CHECK(p.sizes() == at::IntArrayRef({3, 32, 32}));
}

TEST_CASE("LLaVA: image-token expansion and position kinds", "[llava]") {
  auto model = load_model(golden_model("llava_tiny"));
  const int64_t img = *model->image_token_id();
  std::vector<int64_t> ids = model->expand_image_tokens({1, img, 5, 6});
  REQUIRE(ids.size() == size_t(3 + model->vision()->tokens_per_image()));
  auto kinds = model->position_kinds(ids);
  CHECK(kinds[0] == PositionKind::Text);
  CHECK(kinds[1] == PositionKind::Image);
  CHECK(kinds[16] == PositionKind::Image);
  CHECK(kinds[17] == PositionKind::Text);
  CHECK(kinds.back() == PositionKind::Last);
  // Already expanded sequences stay as they are.
  CHECK(model->expand_image_tokens(ids) == ids);
  // The wrong number of image tokens is an error, not a crash.
  at::Tensor tokens = at::tensor(std::vector<int64_t>{1, img, 5}, at::kLong).unsqueeze(0);
  CHECK_THROWS_WITH(model->run_multimodal(tokens, at::zeros({1, 3, 32, 32})),
                    Catch::Contains("image tokens"));
  at::Tensor expanded = at::tensor(ids, at::kLong).unsqueeze(0);
  CHECK_THROWS_WITH(model->run_multimodal(expanded, at::zeros({1, 3, 16, 16})),
                    Catch::Contains("Pixel values must be"));
  // Vision hook names are prefixed.
  auto names = model->hook_names();
  CHECK(std::find(names.begin(), names.end(), "vision.blocks.1.attn.hook_pattern") != names.end());
  CHECK(std::find(names.begin(), names.end(), "hook_image_features") != names.end());
  CHECK(std::find(names.begin(), names.end(), "blocks.1.attn.hook_pattern") != names.end());
}

TEST_CASE("LLaVA: every tensor-name layout in the wild loads", "[llava][bad-input]") {
  // Layout 2 (transformers 4.52+): model.vision_tower.vision_model.*, model.language_model.*.
  namespace fs = std::filesystem;
  fs::path dir = scratch_path("llava_layout2");
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"config.json", "preprocessor_config.json"})
    fs::copy_file(golden_model("llava_tiny") / f, dir / f);
  SafetensorsFile src(golden_model("llava_tiny") / "model.safetensors");
  std::map<std::string, at::Tensor> renamed;
  for (const auto& n : src.names()) {
    std::string m = n;
    if (m.rfind("vision_tower.", 0) == 0) m = "model.vision_tower.vision_model." + m.substr(13);
    else if (m.rfind("multi_modal_projector.", 0) == 0) m = "model." + m;
    else if (m == "language_model.lm_head.weight") m = "lm_head.weight";
    else if (m.rfind("language_model.model.", 0) == 0) m = "model.language_model." + m.substr(21);
    renamed[m] = src.tensor(n);
  }
  write_safetensors(dir / "model.safetensors", renamed);
  c10::InferenceMode guard;
  auto a = load_model(golden_model("llava_tiny"));
  auto b = load_model(dir);
  SafetensorsFile expected(golden_model("llava_tiny") / "expected.safetensors");
  at::Tensor tokens = expected.tensor("input_ids"), pixels = expected.tensor("pixel_values");
  CHECK(max_abs_diff(a->run_multimodal(tokens, pixels).logits,
                     b->run_multimodal(tokens, pixels).logits) == 0.0);
}
