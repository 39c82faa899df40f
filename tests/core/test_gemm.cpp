// The matrix products of core/util/gemm.h: oneDNN's sgemm (where the process has it) gives what
// ATen gives for every operand layout, batch layout, bias, gradient and edge case; other dtypes
// and empty products take ATen's own path. The thread policy follows it (core/util/threads.h).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/util/gemm.h"
#include "core/util/threads.h"

using namespace mechscope;

namespace {

double rel_err(const at::Tensor& got, const at::Tensor& want) {
  const double scale = std::max(1.0, want.abs().max().item<double>());
  return (got - want).abs().max().item<double>() / scale;
}

/// The same [r, c] matrix in several memory layouts: contiguous, a transposed view, rows inside
/// a wider buffer, and every other column (neither layout oneDNN reads: copied).
std::vector<std::pair<std::string, at::Tensor>> layouts(const at::Tensor& m) {
  const int64_t r = m.size(0), c = m.size(1);
  at::Tensor wide = at::zeros({r, c + 5});
  wide.narrow(1, 2, c).copy_(m);
  at::Tensor every_other = at::zeros({r, 2 * c});
  every_other.slice(1, 0, 2 * c, 2).copy_(m);
  return {{"contiguous", m.contiguous()},
          {"transposed view", m.t().contiguous().t()},
          {"rows in a wider buffer", wide.narrow(1, 2, c)},
          {"strided columns", every_other.slice(1, 0, 2 * c, 2)}};
}

}  // namespace

TEST_CASE("gemm: mm, addmm and linear equal ATen for every operand layout", "[gemm]") {
  c10::InferenceMode guard;
  INFO("oneDNN sgemm in this process: " << (fast_cpu_gemm() ? "yes" : "no"));
  at::manual_seed(3);
  for (const auto& [M, K, N] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 33, 17}, {7, 1, 17}, {64, 33, 1}, {7, 33, 17}, {128, 96, 200}}) {
    const at::Tensor a = at::randn({M, K}), b = at::randn({K, N}), bias = at::randn({N});
    const at::Tensor want = at::mm(a, b);
    for (const auto& [la, A] : layouts(a))
      for (const auto& [lb, B] : layouts(b)) {
        INFO(M << "×" << K << "×" << N << ", a " << la << ", b " << lb);
        CHECK(rel_err(mechscope::mm(A, B), want) < 1e-5);
        CHECK(rel_err(mechscope::addmm(bias, A, B), want + bias) < 1e-5);
      }
    // linear: x [2, M, K] (3-D), w [N, K] as stored (nn.Linear) or a transposed view (Conv1D).
    const at::Tensor x = at::randn({2, M, K}), w = at::randn({N, K});
    for (const auto& [lw, W] : layouts(w)) {
      INFO("linear, w " << lw);
      CHECK(rel_err(mechscope::linear(x, W, bias), at::linear(x, w, bias)) < 1e-5);
      CHECK(rel_err(mechscope::linear(x, W), at::linear(x, w)) < 1e-5);
      CHECK(mechscope::linear(x, W).sizes() == at::IntArrayRef({2, M, N}));
    }
    CHECK(rel_err(mechscope::linear(x[0][0], w, bias), at::linear(x[0][0], w, bias)) < 1e-5);
  }
}

TEST_CASE("gemm: batched products read expanded and strided batches and write into views",
          "[gemm]") {
  c10::InferenceMode guard;
  at::manual_seed(4);
  // Attention's shapes: q [B, T, H, dh] read as [B, KV, G, T, dh]; keys [B, KV, Tk, dh] expanded
  // over the G query heads of a group (stride 0) and transposed.
  const int64_t B = 2, T = 5, KV = 2, G = 3, H = KV * G, dh = 8, Tk = 7;
  const at::Tensor qkv = at::randn({B, T, 3 * H * dh});
  const at::Tensor q = qkv.narrow(-1, 0, H * dh).view({B, T, H, dh});
  const at::Tensor k = at::randn({B, KV, Tk, dh});
  const at::Tensor q5 = q.transpose(1, 2).reshape({B, KV, G, T, dh});
  const at::Tensor k5 = k.unsqueeze(2).expand({B, KV, G, Tk, dh}).transpose(-1, -2);
  const at::Tensor want = at::matmul(q5.contiguous(), k5.contiguous()) * 0.25;
  const at::Tensor scores = batched_matmul(q5, k5, 0.25);
  CHECK(scores.sizes() == want.sizes());
  CHECK(rel_err(scores, want) < 1e-5);

  // Into a view: [B, KV, G, T, Tk] · [B, KV, G, Tk, dh] written as z [B, T, H, dh].
  const at::Tensor v = at::randn({B, KV, Tk, dh});
  const at::Tensor p = at::softmax(want, -1);
  const at::Tensor v5 = v.unsqueeze(2).expand({B, KV, G, Tk, dh});
  at::Tensor z = at::full({B, T, H, dh}, -7.0f);
  const at::Tensor r =
      batched_matmul(p, v5, 1.0, z.view({B, T, KV, G, dh}).permute({0, 2, 3, 1, 4}));
  const at::Tensor z_want =
      at::matmul(p, v5.contiguous()).permute({0, 3, 1, 2, 4}).reshape({B, T, H, dh});
  CHECK(rel_err(r.permute({0, 3, 1, 2, 4}).reshape({B, T, H, dh}), z_want) < 1e-5);
  if (fast_cpu_gemm()) CHECK(rel_err(z, z_want) < 1e-5);  // written in place, every element

  // Operands whose matrices are neither layout are copied first; a single batch works too.
  const at::Tensor odd = at::randn({3, 4, 12}).slice(2, 0, 12, 2);  // [3, 4, 6], column stride 2
  const at::Tensor rhs = at::randn({3, 6, 5});
  CHECK(rel_err(batched_matmul(odd, rhs), at::matmul(odd, rhs)) < 1e-5);
  CHECK(rel_err(batched_matmul(odd.slice(0, 0, 1), rhs.slice(0, 0, 1)),
                at::matmul(odd.slice(0, 0, 1), rhs.slice(0, 0, 1))) < 1e-5);
  // A badly shaped `out` is a programming error, refused rather than written past.
  if (fast_cpu_gemm()) CHECK_THROWS(batched_matmul(odd, rhs, 1.0, at::empty({3, 5, 4})));
}

TEST_CASE("gemm: gradients through linear, mm and addmm equal ATen's", "[gemm]") {
  at::manual_seed(5);
  const at::Tensor x0 = at::randn({3, 4, 10}), w0 = at::randn({6, 10}), b0 = at::randn({6});
  const at::Tensor up = at::randn({3, 4, 6});  // the gradient arriving from above
  auto grads =
      [&](const std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&)>&
              f,
          bool need_x, bool need_w) {
        at::Tensor x = x0.clone().requires_grad_(need_x), w = w0.clone().requires_grad_(need_w),
                   b = b0.clone().requires_grad_(true);
        const at::Tensor y = f(x, w, b);
        std::vector<at::Tensor> inputs{b};
        if (need_x) inputs.push_back(x);
        if (need_w) inputs.push_back(w);
        return torch::autograd::grad({(y * up).sum()}, inputs);
      };
  for (const auto& [need_x, need_w] :
       std::vector<std::pair<bool, bool>>{{true, true}, {true, false}, {false, true}}) {
    INFO("x needs grad " << need_x << ", w needs grad " << need_w);
    const auto got =
        grads([](auto& x, auto& w, auto& b) { return mechscope::linear(x, w, b); }, need_x, need_w);
    const auto want =
        grads([](auto& x, auto& w, auto& b) { return at::linear(x, w, b); }, need_x, need_w);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(rel_err(got[i], want[i]) < 1e-5);
  }
  // mm and addmm on a transposed weight view (GPT-2's Conv1D layout).
  const auto got = grads(
      [](auto& x, auto& w, auto& b) {
        return mechscope::addmm(b, x.reshape({12, 10}), w.t()).view({3, 4, 6});
      },
      true, true);
  const auto want = grads(
      [](auto& x, auto& w, auto& b) {
        return at::addmm(b, x.reshape({12, 10}), w.t()).view({3, 4, 6});
      },
      true, true);
  for (size_t i = 0; i < got.size(); ++i) CHECK(rel_err(got[i], want[i]) < 1e-5);
}

TEST_CASE("gemm: other dtypes and empty products take ATen's path", "[gemm]") {
  c10::InferenceMode guard;
  const at::Tensor a = at::randn({4, 3}, at::kDouble), b = at::randn({3, 5}, at::kDouble);
  CHECK(at::equal(mechscope::mm(a, b), at::mm(a, b)));
  CHECK(mechscope::mm(a, b).scalar_type() == at::kDouble);
  // K = 0: every entry is the empty sum (or the bias).
  const at::Tensor e1 = at::randn({4, 0}), e2 = at::randn({0, 5}), bias = at::randn({5});
  CHECK(at::equal(mechscope::mm(e1, e2), at::zeros({4, 5})));
  CHECK(at::equal(mechscope::addmm(bias, e1, e2), bias.expand({4, 5})));
  CHECK(mechscope::linear(at::randn({0, 3}), at::randn({5, 3})).sizes() == at::IntArrayRef({0, 5}));
  // Shapes ATen refuses are refused the same way.
  CHECK_THROWS(mechscope::mm(at::randn({4, 3}), at::randn({4, 5})));
  CHECK_THROWS(mechscope::linear(at::randn({2, 3}), at::randn({5, 4})));
}

TEST_CASE("threads: the default policy follows the products' library", "[gemm][threads]") {
  const char* saved = std::getenv("MECHSCOPE_THREADS");
  const std::string keep = saved != nullptr ? saved : "";
  setenv("MECHSCOPE_THREADS", "3", 1);
  CHECK(default_thread_count() == 3);
  unsetenv("MECHSCOPE_THREADS");
  if (std::getenv("OMP_NUM_THREADS") == nullptr && fast_cpu_gemm())
    CHECK(default_thread_count() ==
          static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  if (saved != nullptr) setenv("MECHSCOPE_THREADS", keep.c_str(), 1);
}
