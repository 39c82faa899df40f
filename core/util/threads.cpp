#include "core/util/threads.h"

#include <ATen/Parallel.h>

#include <cstdlib>

namespace mechscope {

namespace {

int positive_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return 0;
  const int n = std::atoi(v);
  return n > 0 ? n : 0;
}

}  // namespace

int default_thread_count() {
  if (int n = positive_env("MECHSCOPE_THREADS")) return n;
  if (int n = positive_env("OMP_NUM_THREADS")) return n;
  return 1;
}

int configure_threads() {
  const int n = default_thread_count();
  at::set_num_threads(n);
  return n;
}

}  // namespace mechscope
