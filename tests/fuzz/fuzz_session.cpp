// Fuzz: session reading. Sealed files are checked before HDF5 sees them; the harness also feeds
// the bytes as an unsealed file, which load_session reads in a guarded child process first —
// so a hostile file costs a refusal, never a hang or a crash of the caller.
#include "core/session/session.h"
#include "core/util/error.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = mechscope::fuzz::write_input(data, size, "session.mscope");
  try {
    const mechscope::Session s = mechscope::load_session(path);
    for (const auto& r : s.results) r.validate();
  } catch (const mechscope::Error&) {
  }
  return 0;
}
