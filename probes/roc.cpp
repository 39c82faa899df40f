#include "probes/roc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/util/error.h"

namespace mechscope::probes {

namespace {

void check(const std::vector<double>& scores, const std::vector<bool>& labels) {
  if (scores.size() != labels.size())
    throw Error("ROC: " + std::to_string(scores.size()) + " scores but " +
                std::to_string(labels.size()) + " labels; give one label per score.");
  for (size_t i = 0; i < scores.size(); ++i)
    if (std::isnan(scores[i]))
      throw Error("ROC: score " + std::to_string(i) + " is NaN; every score must be a number.");
}

/// Indices of `scores`, highest score first (ties keep their order).
std::vector<size_t> descending(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

}  // namespace

double roc_auc(const std::vector<double>& scores, const std::vector<bool>& labels) {
  check(scores, labels);
  const double P = double(std::count(labels.begin(), labels.end(), true));
  const double N = double(labels.size()) - P;
  if (P == 0 || N == 0) return std::numeric_limits<double>::quiet_NaN();
  // Ascending ranks 1…n; a run of tied scores shares the average of its ranks.
  std::vector<size_t> order = descending(scores);
  std::reverse(order.begin(), order.end());
  double positive_ranks = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = (double(i + 1) + double(j)) / 2;  // average of ranks i+1 … j
    for (size_t k = i; k < j; ++k)
      if (labels[order[k]]) positive_ranks += rank;
    i = j;
  }
  return (positive_ranks - P * (P + 1) / 2) / (P * N);
}

std::vector<std::pair<double, double>> roc_curve(const std::vector<double>& scores,
                                                 const std::vector<bool>& labels) {
  check(scores, labels);
  const double P = double(std::count(labels.begin(), labels.end(), true));
  const double N = double(labels.size()) - P;
  if (P == 0 || N == 0) return {};
  const std::vector<size_t> order = descending(scores);
  std::vector<std::pair<double, double>> points = {{0.0, 0.0}};
  double tp = 0, fp = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) {
      (labels[order[j]] ? tp : fp) += 1;
      ++j;
    }
    points.emplace_back(fp / N, tp / P);
    i = j;
  }
  return points;
}

}  // namespace mechscope::probes
