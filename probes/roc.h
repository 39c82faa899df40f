#pragma once
/// Receiver operating characteristic of scores against binary labels: the area under the curve
/// (the Mann–Whitney statistic, ties counted half) and the curve's points. Plain C++.
#include <utility>
#include <vector>

namespace mechscope::probes {

/// ROC-AUC of `scores` against `labels` (true = positive): the probability that a random positive
/// scores above a random negative, ties counting one half — computed from average ranks
/// ((Σ ranks of positives − P(P+1)/2) / (P·N)). NaN when there is no positive or no negative.
/// Throws mechscope::Error when the two lists differ in length or a score is NaN.
double roc_auc(const std::vector<double>& scores, const std::vector<bool>& labels);

/// The ROC curve as (false-positive rate, true-positive rate) points from (0, 0) to (1, 1): one
/// point per distinct score, thresholds from the highest down (tied scores move both rates at
/// once, so the trapezoids under the curve sum to roc_auc). Empty when roc_auc is NaN. Throws
/// like roc_auc.
std::vector<std::pair<double, double>> roc_curve(const std::vector<double>& scores,
                                                 const std::vector<bool>& labels);

}  // namespace mechscope::probes
