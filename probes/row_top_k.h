#pragma once
/// The k largest (and smallest) entries of every row of a [rows, n] matrix — the inner loop of the
/// weight-space scans (a row per neuron or singular direction, n = d_vocab). On the CPU one pass
/// over each row with two k-heaps, rows split over the cores (the BLAS threads are idle between
/// GEMMs); elsewhere at::topk.
#include <ATen/Tensor.h>

#include <cstdint>

namespace mechscope::probes {

struct RowTopK {
  at::Tensor top_value, top_index;        // [rows, k] float32 / int64 on the CPU, best first
  at::Tensor bottom_value, bottom_index;  // [rows, k] smallest first (when asked)
};

RowTopK row_top_k(const at::Tensor& x, int64_t k, bool bottom);

}  // namespace mechscope::probes
