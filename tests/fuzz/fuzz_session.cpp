// Fuzz: session reading. A sealed file's checksum is verified before HDF5 sees it; every file is
// then read by the checking process (a child, under a time limit) before this process reads it —
// so a hostile file costs a refusal, never a hang or a crash of the caller. The seeds are a sealed
// and an unsealed session, so mutations reach both the checksum and the HDF5 parser.
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
