#include "core/util/memory.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/util/error.h"

namespace mechscope {

int64_t available_memory_bytes() {
  // Tests may pretend to have less memory.
  if (const char* fake = std::getenv("MECHSCOPE_FAKE_AVAILABLE_MEMORY"))
    return std::strtoll(fake, nullptr, 10);
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return -1;
}

void check_fits_in_memory(uint64_t bytes, const std::string& what) {
  const int64_t avail = available_memory_bytes();
  if (avail >= 0 && bytes > static_cast<uint64_t>(avail)) {
    throw Error(what + " needs " + human_bytes(bytes) + " of memory but only " +
                human_bytes(static_cast<uint64_t>(avail)) + " is available; refusing to start.");
  }
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace mechscope
