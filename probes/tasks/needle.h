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
};

}  // namespace mechscope::tasks
