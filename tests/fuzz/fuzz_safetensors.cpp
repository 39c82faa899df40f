// Fuzz: the safetensors parser (header JSON, dtypes, shapes, offsets against the file size) and
// reading every tensor it accepts.
#include <ATen/ATen.h>

#include "core/io/safetensors.h"
#include "core/util/error.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mechscope::fuzz::write_input(data, size, "model.safetensors");
  try {
    mechscope::SafetensorsFile f(path);
    for (const auto& name : f.names()) (void)f.tensor(name, at::kFloat).sum().item<float>();
  } catch (const mechscope::Error&) {
  }
  return 0;
}
