#pragma once
/// Refusing work that cannot fit before allocating anything.
#include <cstdint>
#include <string>

namespace mechscope {

/// Bytes of memory available to new allocations (MemAvailable in /proc/meminfo), or -1 if unknown.
/// MECHSCOPE_FAKE_AVAILABLE_MEMORY (bytes) overrides it, for tests.
int64_t available_memory_bytes();

/// Throws mechscope::Error naming `what`, the estimate and the free memory when `bytes` exceeds
/// the available memory: work that cannot fit is refused before it allocates.
void check_fits_in_memory(uint64_t bytes, const std::string& what);

/// "1.5 GiB"-style sizes for messages.
std::string human_bytes(uint64_t bytes);

}  // namespace mechscope
