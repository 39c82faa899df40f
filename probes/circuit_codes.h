#pragma once
/// Scores of discrete-SAE circuit finding (O'Neill & Bui 2024) from the codes of each
/// (example, head): codes that occur on positive examples (the model performs the task) but on no
/// negative example (it cannot) mark heads — and pairs of heads — that take part in the task.
/// Plain C++.
#include <cstdint>
#include <vector>

namespace mechscope::probes {

/// codes[example][head]: the code of each head (heads flattened layer-major) on each example.
using CodeTable = std::vector<std::vector<int64_t>>;

/// For each head h: |{codes of h on positives} \ {codes of h on negatives}|. Throws
/// mechscope::Error when a row's length differs from the first positive row's.
std::vector<int64_t> head_code_counts(const CodeTable& positive, const CodeTable& negative);

/// For each sender s and receiver r (flat [s · heads + r]) with head_layer[s] < head_layer[r]:
/// |{(code of s, code of r) on the same positive example} \ {the same pairs on negatives}|; 0 for
/// every other pair. Throws mechscope::Error when head_layer or a row has the wrong length.
std::vector<int64_t> edge_code_counts(const CodeTable& positive, const CodeTable& negative,
                                      const std::vector<int64_t>& head_layer);

/// exp(v − max) / Σ exp(v − max): the node score of the counts (sums to 1).
std::vector<double> softmax(const std::vector<double>& values);

}  // namespace mechscope::probes
