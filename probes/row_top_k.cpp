#include "probes/row_top_k.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

namespace mechscope::probes {

namespace {

/// Keeps the k best (value, index) pairs of a stream; `Better(a, b)`: a ranks before b.
template <typename Better>
struct Heap {
  std::vector<std::pair<float, int64_t>> items;  // heap with the worst kept item on top
  int64_t k;
  Better better;
  explicit Heap(int64_t k_) : k(k_) { items.reserve(static_cast<size_t>(k_)); }
  bool worse_first(const std::pair<float, int64_t>& a, const std::pair<float, int64_t>& b) const {
    return better(a.first, b.first);  // a better than b → b nearer the top
  }
  void offer(float v, int64_t i) {
    auto cmp = [this](const auto& a, const auto& b) { return worse_first(a, b); };
    if (static_cast<int64_t>(items.size()) < k) {
      items.emplace_back(v, i);
      std::push_heap(items.begin(), items.end(), cmp);
    } else if (better(v, items.front().first)) {
      std::pop_heap(items.begin(), items.end(), cmp);
      items.back() = {v, i};
      std::push_heap(items.begin(), items.end(), cmp);
    }
  }
  /// Best first; equal values by index.
  void write(float* values, int64_t* indices) {
    std::sort(items.begin(), items.end(), [this](const auto& a, const auto& b) {
      return better(a.first, b.first) || (a.first == b.first && a.second < b.second);
    });
    for (size_t j = 0; j < items.size(); ++j) {
      values[j] = items[j].first;
      indices[j] = items[j].second;
    }
  }
};

}  // namespace

RowTopK row_top_k(const at::Tensor& x_in, int64_t k, bool bottom) {
  RowTopK out;
  k = std::min<int64_t>(k, x_in.size(1));
  if (!x_in.device().is_cpu()) {
    auto [tv, ti] = x_in.topk(k, 1, true, true);
    out.top_value = tv.to(at::kCPU).to(at::kFloat);
    out.top_index = ti.to(at::kCPU);
    if (bottom) {
      auto [bv, bi] = x_in.topk(k, 1, false, true);
      out.bottom_value = bv.to(at::kCPU).to(at::kFloat);
      out.bottom_index = bi.to(at::kCPU);
    }
    return out;
  }
  const at::Tensor x = x_in.to(at::kFloat).contiguous();
  const int64_t rows = x.size(0), n = x.size(1);
  out.top_value = at::empty({rows, k}, at::kFloat);
  out.top_index = at::empty({rows, k}, at::kLong);
  if (bottom) {
    out.bottom_value = at::empty({rows, k}, at::kFloat);
    out.bottom_index = at::empty({rows, k}, at::kLong);
  }
  const float* data = x.data_ptr<float>();
  float* tv = out.top_value.data_ptr<float>();
  int64_t* ti = out.top_index.data_ptr<int64_t>();
  float* bv = bottom ? out.bottom_value.data_ptr<float>() : nullptr;
  int64_t* bi = bottom ? out.bottom_index.data_ptr<int64_t>() : nullptr;
  auto work = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* row = data + r * n;
      Heap<std::greater<float>> top(k);
      Heap<std::less<float>> low(k);
      // Most entries lose to the current k-th best: one compare against a cached threshold.
      for (int64_t i = 0; i < k; ++i) {
        top.offer(row[i], i);
        if (bottom) low.offer(row[i], i);
      }
      float top_bar = top.items.front().first, low_bar = low.items.empty() ? 0.f : low.items.front().first;
      auto scan = [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const float v = row[i];
          if (v > top_bar) {
            top.offer(v, i);
            top_bar = top.items.front().first;
          }
          if (bottom && v < low_bar) {
            low.offer(v, i);
            low_bar = low.items.front().first;
          }
        }
      };
      // Blocks of 16: their max and min (vectorised) decide whether any entry needs a look.
      constexpr int64_t B = 16;
      int64_t i = k;
      for (; i + B <= n; i += B) {
        float hi = row[i], lo = row[i];
        for (int64_t j = 1; j < B; ++j) {
          hi = row[i + j] > hi ? row[i + j] : hi;
          lo = row[i + j] < lo ? row[i + j] : lo;
        }
        if (hi > top_bar || (bottom && lo < low_bar)) scan(i, i + B);
      }
      scan(i, n);
      top.write(tv + r * k, ti + r * k);
      if (bottom) low.write(bv + r * k, bi + r * k);
    }
  };
  const int64_t threads =
      std::min<int64_t>(std::max(1u, std::thread::hardware_concurrency()), std::max<int64_t>(1, rows / 16));
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(work, rows * t / threads, rows * (t + 1) / threads);
  work(0, rows / threads);
  for (auto& th : pool) th.join();
  return out;
}

}  // namespace mechscope::probes
