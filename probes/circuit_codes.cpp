#include "probes/circuit_codes.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "core/util/error.h"

namespace mechscope::probes {

namespace {

size_t heads_of(const CodeTable& positive, const CodeTable& negative) {
  const size_t H =
      positive.empty() ? (negative.empty() ? 0 : negative.front().size()) : positive.front().size();
  for (const CodeTable* t : {&positive, &negative})
    for (const auto& row : *t)
      if (row.size() != H)
        throw Error("Every example needs a code for each of the " + std::to_string(H) +
                    " heads; one has " + std::to_string(row.size()) + ".");
  return H;
}

}  // namespace

std::vector<int64_t> head_code_counts(const CodeTable& positive, const CodeTable& negative) {
  const size_t H = heads_of(positive, negative);
  std::vector<int64_t> out(H, 0);
  for (size_t h = 0; h < H; ++h) {
    std::set<int64_t> pos, neg;
    for (const auto& row : positive) pos.insert(row[h]);
    for (const auto& row : negative) neg.insert(row[h]);
    for (int64_t c : pos) out[h] += neg.count(c) ? 0 : 1;
  }
  return out;
}

std::vector<int64_t> edge_code_counts(const CodeTable& positive, const CodeTable& negative,
                                      const std::vector<int64_t>& head_layer) {
  const size_t H = heads_of(positive, negative);
  if (head_layer.size() != H)
    throw Error("Edge scores need the layer of each of the " + std::to_string(H) + " heads; got " +
                std::to_string(head_layer.size()) + " layers.");
  std::vector<int64_t> out(H * H, 0);
  for (size_t s = 0; s < H; ++s)
    for (size_t r = 0; r < H; ++r) {
      if (head_layer[s] >= head_layer[r]) continue;
      std::set<std::pair<int64_t, int64_t>> pos, neg;
      for (const auto& row : positive) pos.insert({row[s], row[r]});
      for (const auto& row : negative) neg.insert({row[s], row[r]});
      for (const auto& p : pos) out[s * H + r] += neg.count(p) ? 0 : 1;
    }
  return out;
}

std::vector<double> softmax(const std::vector<double>& v) {
  if (v.empty()) return {};
  const double top = *std::max_element(v.begin(), v.end());
  std::vector<double> out(v.size());
  double sum = 0;
  for (size_t i = 0; i < v.size(); ++i) sum += out[i] = std::exp(v[i] - top);
  for (double& e : out) e /= sum;
  return out;
}

}  // namespace mechscope::probes
