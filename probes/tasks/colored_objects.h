#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Colored objects (Merullo et al. 2023): "Q : On the table , I see a red cup , a blue book and
/// a green pen . What color is the book ? A :" -> "blue".
class ColoredObjectsTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
