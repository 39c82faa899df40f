#pragma once
/// The one thread policy of mechscope's programs (CLI, workbench, benchmarks).

namespace mechscope {

/// Sets LibTorch's intra-op thread count and returns it: MECHSCOPE_THREADS when set (> 0), else
/// OMP_NUM_THREADS when set (> 0), else every core. The time of a forward pass is in its matrix
/// products; with oneDNN's sgemm (core/util/gemm.h) they run on LibTorch's own OpenMP pool, and
/// OpenBLAS is kept to one thread so that two pools never spin against each other on the same
/// cores (GPT-2 small, 1 × 128 tokens, 2 cores: see tests/bench/README.md). Without oneDNN but
/// with OpenBLAS (libopenblas0-pthread spreads each product over every core by itself) the
/// default is 1. Call it once, early in main.
int configure_threads();

/// What configure_threads() would choose, without setting anything.
int default_thread_count();

/// OpenBLAS's own thread count, where the process has OpenBLAS (Debian's LibTorch); nothing
/// otherwise. configure_threads() keeps it at one when the products go through oneDNN; the
/// benchmarks raise it to time plain LibTorch under its own fastest policy.
void set_openblas_threads(int n);

}  // namespace mechscope
