#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Laundry list (Merullo et al., Talking Heads): a list of items, then "The second item was" ->
/// the item at that position.
class LaundryListTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
