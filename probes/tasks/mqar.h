#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Multi-query associative recall (Zoology, Arora et al. 2023): key-value pairs, then queried
/// keys; the answer is the queried key's value.
class MqarTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
