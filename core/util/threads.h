#pragma once
/// The one thread policy of mechscope's programs (CLI, workbench, benchmarks).

namespace mechscope {

/// Sets LibTorch's intra-op thread count and returns it: MECHSCOPE_THREADS when set (> 0), else
/// OMP_NUM_THREADS when set (> 0), else 1. One is the default because the time of a forward pass
/// is in its matrix products, which OpenBLAS (libopenblas0-pthread) already spreads over every
/// core with its own threads; a second LibTorch pool on top of them oversubscribes the cores
/// (GPT-2 small, 1 × 128 tokens, 2 cores: see tests/bench/README.md). Call it once, early in main.
int configure_threads();

/// What configure_threads() would choose, without setting anything.
int default_thread_count();

}  // namespace mechscope
