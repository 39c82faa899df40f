#pragma once
#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// Induction: a sequence of random words repeated once; the model must copy the next word of the
/// repeat. The words come from the whole project vocabulary, so a model trained on it learns to
/// copy any word (the textbook previous-token + induction circuit), not a memorised set.
class InductionTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  /// copy_pool(): every word the task can emit.
  std::vector<std::string> vocabulary() const override;
  /// The words sequences are drawn from, sorted: the nonsense tokens tok_000 .. tok_199 (the
  /// words only this task brings) and every other task's words — the whole project vocabulary
  /// but the special tokens.
  static const std::vector<std::string>& copy_pool();
};

}  // namespace mechscope::tasks
