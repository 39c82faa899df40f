#pragma once
/// Matrix products of the forward pass and the heavy probes, in one place.
///
/// On the CPU in float32 they go through oneDNN's sgemm when the process has it (Debian's
/// LibTorch links libdnnl.so.2): its JIT kernels on LibTorch's own OpenMP threads are 1.2–2.4×
/// faster than OpenBLAS on the shapes of a forward pass (tests/bench/README.md), and they share
/// one pool of threads with LibTorch's element-wise operations instead of competing with
/// OpenBLAS's. Everything else (other dtypes and devices, a LibTorch without oneDNN's symbols)
/// is the plain ATen operation. Autograd works on both paths.
#include <ATen/ATen.h>

#include <initializer_list>

namespace mechscope {

/// x [..., in] · wᵀ + b → [..., out], as at::linear (`w` [out, in] with any strides; `b` [out]
/// or undefined).
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {});

/// a [M, K] · b [K, N] → [M, N], as at::mm (any strides).
at::Tensor mm(const at::Tensor& a, const at::Tensor& b);

/// bias [N] (broadcast over rows) + a [M, K] · b [K, N], as at::addmm.
at::Tensor addmm(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b);

/// alpha · a · b over leading (batch) dimensions of equal sizes — a [..., M, K], b [..., K, N] →
/// [..., M, N] — as alpha · at::matmul(a, b) without broadcasting. Batch strides may be anything
/// (0 included: an expanded operand is not copied). On the fast path the result is written into
/// `out` when given ([..., M, N] with unit column stride: a view into a larger layout), else into
/// a new contiguous tensor; the matrices are spread over LibTorch's threads.
at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b, double alpha = 1.0,
                          const at::Tensor& out = {});

/// Whether float32 CPU products use oneDNN's sgemm in this process.
bool fast_cpu_gemm();

/// Whether products of these tensors take the fast path: oneDNN is there, they are float32
/// strided CPU tensors, and autograd does not need them.
bool fast_gemm_takes(std::initializer_list<const at::Tensor*> tensors);

}  // namespace mechscope
