#include "core/util/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <cstdlib>
#include <thread>

#include "core/util/gemm.h"

namespace mechscope {

namespace {

int positive_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return 0;
  const int n = std::atoi(v);
  return n > 0 ? n : 0;
}

using SetThreadsFn = void (*)(int);

/// OpenBLAS's thread setter when the process has OpenBLAS (Debian's LibTorch, through
/// libblas.so.3); null otherwise.
SetThreadsFn openblas_set_threads() {
  return reinterpret_cast<SetThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}

int cores() {
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace

int default_thread_count() {
  if (int n = positive_env("MECHSCOPE_THREADS")) return n;
  if (int n = positive_env("OMP_NUM_THREADS")) return n;
  if (fast_cpu_gemm()) return cores();
  return openblas_set_threads() != nullptr ? 1 : cores();
}

void set_openblas_threads(int n) {
  if (SetThreadsFn set = openblas_set_threads()) set(n);
}

int configure_threads() {
  const int n = default_thread_count();
  at::set_num_threads(n);
  // oneDNN's products run on LibTorch's pool; OpenBLAS (what is left: small batched products,
  // LAPACK) stays on the calling thread so that its threads never compete with the pool's.
  if (fast_cpu_gemm()) set_openblas_threads(1);
  return n;
}

}  // namespace mechscope
