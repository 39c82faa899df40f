#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Needle in a haystack (Wu et al. 2024): filler sentences with one "secret code" sentence at a
/// chosen depth, then a question whose answer is the code's digits.
class NeedleTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
  /// An example whose haystack has about `haystack_words` words (whole sentences, at most that
  /// many, at least one sentence) and whose needle sits at `depth_percent` (0 … 100) of it — the
  /// grid of Wu et al.'s retrieval-head experiments. The prompt (haystack, needle and question)
  /// must fit `options.max_words`.
  Example sample_at(std::mt19937_64& rng, const TaskOptions& options, int64_t haystack_words,
                    double depth_percent) const;

 private:
  Example build(std::mt19937_64& rng, const TaskOptions& options, int64_t haystack_words,
                double depth_percent) const;
};

}  // namespace mechscope::tasks
