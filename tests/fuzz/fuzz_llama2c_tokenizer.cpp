// Fuzz: the llama2.c tokenizer.bin reader (max length, scores, piece lengths), then encoding and
// decoding.
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mechscope::fuzz::write_input(data, size, "tokenizer.bin");
  try {
    auto tok = mechscope::load_llama2c_tokenizer(path, 105);  // the seed's vocabulary
    const auto enc = tok->encode("Once upon a time, there was a little girl.", true);
    (void)tok->decode(enc.ids);
  } catch (const mechscope::Error&) {
  }
  return 0;
}
