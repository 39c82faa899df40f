// Fuzz: tokenizer.json loading (models, normalizers, pre-tokenizers, added tokens, templates),
// then encoding and decoding a few texts (ASCII, accents, CJK, emoji, whitespace runs, a special
// token written out).
#include <algorithm>

#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mechscope::fuzz::write_input(data, size, "tokenizer.json");
  static const char* const kTexts[] = {"Hello world", " Héllo,  wörld!\n\t", "日本語のテキスト 🙂",
                                       "<s> When Mary and John", "    ", ""};
  try {
    auto tok = mechscope::load_hf_tokenizer(path);
    for (const char* text : kTexts) {
      const auto enc = tok->encode(text, true);
      (void)tok->decode(enc.ids, false);
      (void)tok->decode(enc.ids, true);
      for (int64_t id : enc.ids) (void)tok->token_text(id);
    }
    const int64_t n = std::min<int64_t>(tok->vocab_size(), 64);
    for (int64_t id = 0; id < n; ++id) (void)tok->token_string(id);
  } catch (const mechscope::Error&) {
  }
  return 0;
}
