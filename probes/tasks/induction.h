#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Induction: a sequence of random tokens repeated once; the model must copy the next
/// token of the repeat.
class InductionTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
