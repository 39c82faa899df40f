// Fuzz: the llama2.c checkpoint reader (header fields, sizes against the file, shared weights).
#include "core/model/loader.h"
#include "core/model/model.h"
#include "core/util/error.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mechscope::fuzz::write_input(data, size, "model.bin");
  try {
    auto m = mechscope::load_llama2c(path, mechscope::LoadOptions{});
    (void)m->config().to_json().dump();
  } catch (const mechscope::Error&) {
  }
  return 0;
}
