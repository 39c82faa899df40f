// Fuzz: the GGUF reader (header, metadata of every type and nested arrays, tensor infos, extents,
// alignment, overlaps), every metadata accessor on every key, and dequantizing every tensor it
// accepts (up to a total element budget, so one input stays fast).
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/util/error.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

constexpr int64_t kMaxElements = int64_t{1} << 22;  // dequantized per input, all tensors together

/// Calls `f`, ignoring a mechscope::Error (a refusal is a valid outcome for any accessor).
template <typename F>
void refusal_ok(F f) {
  try {
    f();
  } catch (const mechscope::Error&) {
  }
}

/// Every typed accessor on `key`; most throw for most keys.
void read_key(const mechscope::gguf::File& file, const std::string& key) {
  refusal_ok([&] { (void)file.integer(key); });
  refusal_ok([&] { (void)file.integer(key, 0); });
  refusal_ok([&] { (void)file.number(key, 0); });
  refusal_ok([&] { (void)file.boolean(key, false); });
  refusal_ok([&] { (void)file.string(key); });
  refusal_ok([&] { (void)file.string(key, ""); });
  refusal_ok([&] { (void)file.strings(key); });
  refusal_ok([&] { (void)file.numbers(key); });
  refusal_ok([&] { (void)file.integers(key); });
  refusal_ok([&] { (void)file.require(key).as_number(); });
}

void dequantize_all(const mechscope::gguf::File& file) {
  int64_t budget = kMaxElements;
  std::vector<float> out;
  for (const auto& t : file.tensors()) {
    const int64_t n = t.numel();
    if (n > budget) continue;
    budget -= n;
    out.resize(size_t(n));
    refusal_ok([&] { mechscope::gguf::dequantize_tensor(file, t, out.data()); });
    (void)t.shape();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mechscope::fuzz::write_input(data, size, "model.gguf");
  try {
    const mechscope::gguf::File file(path);
    for (const auto& [key, value] : file.metadata()) {
      (void)mechscope::gguf::value_type_name(value.type);
      read_key(file, key);
    }
    read_key(file, "general.alignment");
    read_key(file, "tokenizer.ggml.tokens");
    dequantize_all(file);
  } catch (const mechscope::Error&) {
  }
  return 0;
}
