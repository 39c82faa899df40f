#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Multiple-choice correct letter (Lieberum et al. 2023): a fact, then a question with options
/// A-D; the answer is the letter of the option the fact names.
class McLetterTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
