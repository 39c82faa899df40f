#include "core/util/gemm.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <dlfcn.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mechscope {
namespace {

// oneDNN's C entry point (dnnl.h): row-major C = alpha · op(A) · op(B) + beta · C; 0 on success.
using SgemmFn = int (*)(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                        const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                        float* C, int64_t ldc);

/// oneDNN's sgemm when the process has loaded it (looked up, not linked, so a LibTorch that
/// bundles oneDNN privately or lacks it still builds and runs); MECHSCOPE_GEMM=aten turns it off
/// (benchmarks compare the two).
SgemmFn sgemm_fn() {
  static const SgemmFn fn = []() -> SgemmFn {
    const char* choice = std::getenv("MECHSCOPE_GEMM");
    if (choice != nullptr && std::strcmp(choice, "aten") == 0) return nullptr;
    return reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  }();
  return fn;
}

/// How oneDNN reads an r × c matrix with row stride s0 and column stride s1: row-major (`N`) or
/// the transpose of a row-major one (`T`), with its leading dimension; none for other strides.
struct Layout {
  char trans = 'N';
  int64_t ld = 1;
};

std::optional<Layout> layout(int64_t r, int64_t c, int64_t s0, int64_t s1) {
  if ((c == 1 || s1 == 1) && (r == 1 || s0 >= std::max<int64_t>(c, 1)))
    return Layout{'N', r == 1 ? std::max<int64_t>(c, 1) : s0};
  if ((r == 1 || s0 == 1) && (c == 1 || s1 >= std::max<int64_t>(r, 1)))
    return Layout{'T', c == 1 ? std::max<int64_t>(r, 1) : s1};
  return std::nullopt;
}

/// The last two dimensions of `m` as oneDNN reads them; `m` is replaced by a contiguous copy when
/// their strides are neither layout.
Layout matrix_layout(at::Tensor& m) {
  const int64_t r = m.size(-2), c = m.size(-1);
  if (auto l = layout(r, c, m.stride(-2), m.stride(-1))) return *l;
  m = m.contiguous();
  return *layout(r, c, m.stride(-2), m.stride(-1));
}

void check_status(int status, int64_t M, int64_t K, int64_t N) {
  if (status != 0)
    throw std::runtime_error("oneDNN sgemm failed (status " + std::to_string(status) + ") on [" +
                             std::to_string(M) + ", " + std::to_string(K) + "] x [" +
                             std::to_string(K) + ", " + std::to_string(N) + "]");
}

/// oneDNN sizes its OpenMP team from the calling thread's setting, which LibTorch gives each
/// thread only when it first runs parallel work: give it now (a pool thread of the workbench).
void use_libtorch_threads() { at::internal::lazy_init_num_threads(); }

/// a [M, K] · b [K, N] → a new contiguous [M, N].
at::Tensor sgemm(at::Tensor a, at::Tensor b) {
  const Layout A = matrix_layout(a), B = matrix_layout(b);
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  at::Tensor out = at::empty({M, N}, a.options());
  use_libtorch_threads();
  check_status(sgemm_fn()(A.trans, B.trans, M, N, K, 1.0f, a.data_ptr<float>(), A.ld,
                          b.data_ptr<float>(), B.ld, 0.0f, out.data_ptr<float>(), N),
               M, K, N);
  return out;
}

/// Whether oneDNN can take these operands: float32 strided CPU tensors and non-empty products.
bool takes(std::initializer_list<const at::Tensor*> ts) {
  if (sgemm_fn() == nullptr) return false;
  for (const at::Tensor* t : ts) {
    if (!t->defined()) continue;
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || t->layout() != at::kStrided ||
        t->numel() == 0)
      return false;
  }
  return true;
}

bool wants_grad(std::initializer_list<const at::Tensor*> ts) {
  if (!at::GradMode::is_enabled()) return false;
  return std::any_of(ts.begin(), ts.end(),
                     [](const at::Tensor* t) { return t->defined() && t->requires_grad(); });
}

/// bias (broadcast over rows; undefined for none) + a · b, without autograd. The bias is added
/// after the product: a pass over the output, cheaper than the copy of the broadcast bias that
/// the product's beta = 1 would read (GPT-2 small, 1 × 128: 122 against 135 ms per forward).
at::Tensor product(const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias) {
  at::Tensor out = sgemm(a, b);
  return bias.defined() ? out.add_(bias) : out;
}

/// a · b through oneDNN with a backward pass (itself through `mm`).
struct FastProduct : torch::autograd::Function<FastProduct> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& a,
                            const at::Tensor& b) {
    ctx->save_for_backward({a, b});
    return product(a, b, {});
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& g = grads[0];  // [M, N]
    at::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) ga = mechscope::mm(g, saved[1].t());  // [M, K]
    if (ctx->needs_input_grad(1)) gb = mechscope::mm(saved[0].t(), g);  // [K, N]
    return {ga, gb};
  }
};

at::Tensor fast_product(const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias) {
  if (!wants_grad({&a, &b, &bias})) return product(a, b, bias);
  at::Tensor out = FastProduct::apply(a, b);
  return bias.defined() ? out + bias : out;
}

}  // namespace

bool fast_cpu_gemm() { return sgemm_fn() != nullptr; }

bool fast_gemm_takes(std::initializer_list<const at::Tensor*> tensors) {
  return takes(tensors) && !wants_grad(tensors);
}

at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b, double alpha,
                          const at::Tensor& out) {
  const int64_t d = a.dim();
  const bool fits = d >= 3 && b.dim() == d && a.size(-1) == b.size(-2) &&
                    a.sizes().slice(0, d - 2) == b.sizes().slice(0, d - 2);
  if (!fits || !fast_gemm_takes({&a, &b, &out})) {
    at::Tensor r = at::matmul(a, b);
    return alpha == 1.0 ? r : r * alpha;
  }
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  at::Tensor A = a, B = b;
  const Layout la = matrix_layout(A), lb = matrix_layout(B);
  std::vector<int64_t> shape = a.sizes().vec();
  shape.back() = N;
  at::Tensor C = out.defined() ? out : at::empty(shape, a.options());
  if (C.sizes() != at::IntArrayRef(shape) || (N > 1 && C.stride(-1) != 1) ||
      (M > 1 && C.stride(-2) < N))
    throw std::logic_error("batched_matmul: `out` must be [..., M, N] with unit column stride");
  const int64_t ldc = M > 1 ? C.stride(-2) : N;
  const int64_t lead = d - 2;
  int64_t batches = 1;
  for (int64_t j = 0; j < lead; ++j) batches *= shape[j];
  const float* pa = A.data_ptr<float>();
  const float* pb = B.data_ptr<float>();
  float* pc = C.data_ptr<float>();
  const SgemmFn fn = sgemm_fn();
  use_libtorch_threads();
  at::parallel_for(0, batches, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t rest = i, oa = 0, ob = 0, oc = 0;
      for (int64_t j = lead - 1; j >= 0; --j) {  // unravel i over the leading sizes
        const int64_t idx = rest % shape[j];
        rest /= shape[j];
        oa += idx * A.stride(j);
        ob += idx * B.stride(j);
        oc += idx * C.stride(j);
      }
      check_status(fn(la.trans, lb.trans, M, N, K, static_cast<float>(alpha), pa + oa, la.ld,
                      pb + ob, lb.ld, 0.0f, pc + oc, ldc),
                   M, K, N);
    }
  });
  return C;
}

at::Tensor mm(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(0) || !takes({&a, &b}))
    return at::mm(a, b);
  return fast_product(a, b, {});
}

at::Tensor addmm(const at::Tensor& bias, const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(0) || bias.dim() != 1 ||
      bias.size(0) != b.size(1) || !takes({&bias, &a, &b}))
    return at::addmm(bias, a, b);
  return fast_product(a, b, bias);
}

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (x.dim() < 1 || w.dim() != 2 || x.size(-1) != w.size(1) ||
      (b.defined() && (b.dim() != 1 || b.size(0) != w.size(0))) || !takes({&x, &w, &b}))
    return at::linear(x, w, b);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = w.size(0);
  return fast_product(x.reshape({-1, x.size(-1)}), w.t(), b).view(shape);
}

}  // namespace mechscope
