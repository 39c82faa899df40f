#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Greater-than (Hanna et al. 2023): "The war lasted from the year 17 32 to the year 17" -> a
/// two-digit year word greater than 32; the corrupted prompt starts at "01".
class GreaterThanTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
