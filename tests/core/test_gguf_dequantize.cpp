// GGML dequantization (core/gguf/dequantize.cpp): bit for bit equal to pip gguf's
// gguf.quants.dequantize on the blocks in tests/golden/gguf/dequant (make_gguf_goldens.py), plus
// block layouts, type names, half-float corner cases and refusals.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/gguf/gguf_file.h"
#include "core/util/error.h"
#include "tests/test_paths.h"

using namespace mechscope;
using namespace mechscope::gguf;
using Catch::Matchers::Contains;

namespace {

std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), {}};
}

uint32_t bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

/// Dequantizes the raw bytes of one element of `type` (a 1-element block type).
float one(TensorType type, std::vector<uint8_t> raw) {
  float out = 0;
  dequantize(uint32_t(type), raw.data(), 1, &out, "a test value");
  return out;
}

}  // namespace

TEST_CASE("gguf dequantize: every supported type matches pip gguf bit for bit", "[gguf]") {
  const std::pair<TensorType, const char*> types[] = {
      {TensorType::F32, "F32"},   {TensorType::F16, "F16"},   {TensorType::BF16, "BF16"},
      {TensorType::Q4_0, "Q4_0"}, {TensorType::Q4_1, "Q4_1"}, {TensorType::Q5_0, "Q5_0"},
      {TensorType::Q5_1, "Q5_1"}, {TensorType::Q8_0, "Q8_0"}, {TensorType::Q2_K, "Q2_K"},
      {TensorType::Q3_K, "Q3_K"}, {TensorType::Q4_K, "Q4_K"}, {TensorType::Q5_K, "Q5_K"},
      {TensorType::Q6_K, "Q6_K"}, {TensorType::I8, "I8"},     {TensorType::I16, "I16"},
      {TensorType::I32, "I32"},   {TensorType::I64, "I64"},   {TensorType::F64, "F64"},
  };
  const auto dir = test::golden_dir() / "gguf" / "dequant";
  for (const auto& [type, name] : types) {
    INFO("type " << name);
    CHECK(tensor_type_name(uint32_t(type)) == name);
    const auto raw = read_bytes(dir / (std::string(name) + ".raw"));
    const auto expected = read_bytes(dir / (std::string(name) + ".f32"));
    const int64_t count = int64_t(expected.size() / 4);
    const auto layout = block_layout(uint32_t(type));
    REQUIRE(layout);
    REQUIRE(count % layout->elements == 0);
    REQUIRE(int64_t(raw.size()) == count / layout->elements * layout->bytes);

    std::vector<float> out(static_cast<size_t>(count));
    dequantize(uint32_t(type), raw.data(), count, out.data(), name);
    size_t mismatches = 0, first = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      uint32_t want;
      std::memcpy(&want, expected.data() + 4 * i, 4);
      if (bits(out[i]) != want && mismatches++ == 0) first = i;
    }
    INFO("first mismatch at element " << first << " of " << count);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("gguf dequantize: block layouts and type names", "[gguf]") {
  const std::tuple<TensorType, int64_t, int64_t> layouts[] = {
      {TensorType::F32, 1, 4},     {TensorType::F16, 1, 2},      {TensorType::BF16, 1, 2},
      {TensorType::Q4_0, 32, 18},  {TensorType::Q4_1, 32, 20},   {TensorType::Q5_0, 32, 22},
      {TensorType::Q5_1, 32, 24},  {TensorType::Q8_0, 32, 34},   {TensorType::Q8_1, 32, 36},
      {TensorType::Q2_K, 256, 84}, {TensorType::Q3_K, 256, 110}, {TensorType::Q4_K, 256, 144},
      {TensorType::Q5_K, 256, 176}, {TensorType::Q6_K, 256, 210}, {TensorType::Q8_K, 256, 292},
      {TensorType::I8, 1, 1},      {TensorType::I16, 1, 2},      {TensorType::I32, 1, 4},
      {TensorType::I64, 1, 8},     {TensorType::F64, 1, 8},
  };
  for (const auto& [type, elements, bytes] : layouts) {
    INFO(tensor_type_name(uint32_t(type)));
    const auto layout = block_layout(uint32_t(type));
    REQUIRE(layout);
    CHECK(layout->elements == elements);
    CHECK(layout->bytes == bytes);
  }
  CHECK(block_layout(20)->bytes == 18);  // IQ4_NL: sized, so files holding it load
  CHECK(tensor_type_name(20) == "IQ4_NL");
  CHECK_FALSE(block_layout(4));  // Q4_2, retired from ggml
  CHECK_FALSE(block_layout(1000));
  CHECK(tensor_type_name(1000) == "type 1000");
}

TEST_CASE("gguf dequantize: half-float corner cases", "[gguf]") {
  CHECK(one(TensorType::F16, {0x00, 0x3C}) == 1.0f);
  CHECK(one(TensorType::F16, {0xFF, 0x7B}) == 65504.0f);
  CHECK(one(TensorType::F16, {0x01, 0x00}) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(one(TensorType::F16, {0xFF, 0x03}) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(one(TensorType::F16, {0x00, 0x04}) == std::ldexp(1.0f, -14));  // smallest normal
  CHECK(bits(one(TensorType::F16, {0x00, 0x80})) == 0x80000000u);  // -0
  CHECK(one(TensorType::F16, {0x00, 0xFC}) == -INFINITY);
  CHECK(bits(one(TensorType::F16, {0x01, 0x7E})) == 0x7FC02000u);  // NaN payload kept
  CHECK(one(TensorType::BF16, {0x80, 0x3F}) == 1.0f);
  CHECK(std::isnan(one(TensorType::BF16, {0xC0, 0x7F})));
  CHECK(one(TensorType::F64, {0, 0, 0, 0, 0, 0, 0xF0, 0x3F}) == 1.0f);
  CHECK(one(TensorType::I16, {0x00, 0x80}) == -32768.0f);
}

TEST_CASE("gguf dequantize: a Q8_0 block by hand", "[gguf]") {
  std::vector<uint8_t> block(34, 0);
  block[1] = 0x38;  // d = 0.5 (f16 0x3800)
  block[2] = 0x80;  // -128
  block[3] = 0x7F;  // 127
  block[4] = 0x01;
  float out[32];
  dequantize(uint32_t(TensorType::Q8_0), block.data(), 32, out, "a block");
  CHECK(out[0] == -64.0f);
  CHECK(out[1] == 63.5f);
  CHECK(out[2] == 0.5f);
  CHECK(out[3] == 0.0f);
}

TEST_CASE("gguf dequantize: refusals name what was being dequantized", "[gguf]") {
  std::vector<uint8_t> raw(292, 0);
  std::vector<float> out(256);
  CHECK_THROWS_WITH(dequantize(uint32_t(TensorType::Q8_K), raw.data(), 256, out.data(), "tensor x"),
                    Contains("Cannot dequantize tensor x: it has type Q8_K (15), which mechscope cannot dequantize."));
  CHECK_THROWS_WITH(dequantize(16, raw.data(), 256, out.data(), "tensor y"),
                    Contains("type IQ2_XXS (16)"));
  CHECK_THROWS_WITH(dequantize(999, raw.data(), 1, out.data(), "tensor z"),
                    Contains("tensor z: it has unknown type 999, which mechscope cannot dequantize"));
  CHECK_THROWS_WITH(dequantize(uint32_t(TensorType::Q4_0), raw.data(), 33, out.data(), "tensor w"),
                    Contains("Cannot dequantize tensor w: 33 elements are not a whole number of Q4_0 blocks of 32."));
  CHECK_THROWS_AS(dequantize(uint32_t(TensorType::F32), raw.data(), -1, out.data(), "tensor v"), Error);
  CHECK_NOTHROW(dequantize(uint32_t(TensorType::Q4_K), raw.data(), 0, out.data(), "nothing"));
}
