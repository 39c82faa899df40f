#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Indirect object identification (Wang et al. 2022): "When Mary and John went to the store ,
/// John gave a drink to" -> "Mary"; the corrupted prompt is the ABC version.
class IoiTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
