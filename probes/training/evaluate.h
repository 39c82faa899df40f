#pragma once
/// Held-out task accuracy: the model is right when its greedy prediction of every answer word
/// (teacher-forced) is correct; greater-than accepts any year above the start year.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "probes/tasks/task.h"

#include "core/model/hooks.h"

namespace mechscope {
class Model;
}

namespace mechscope::training {

struct TaskAccuracy {
  int64_t correct = 0;
  int64_t total = 0;
  double accuracy() const { return total ? double(correct) / double(total) : 0.0; }
};

/// Accuracy of `model` on `examples` (batched; `batch_size` examples per forward pass).
/// `hooks` (optional) are carried by every forward pass, e.g. to ablate heads.
TaskAccuracy evaluate_examples(const Model& model, const std::vector<tasks::Example>& examples,
                               int64_t batch_size = 64, const HookSet* hooks = nullptr);

/// Accuracy on `n` fresh examples of each named task drawn from `seed`.
std::map<std::string, TaskAccuracy> evaluate_tasks(const Model& model,
                                                   const std::vector<std::string>& task_names,
                                                   int64_t n, uint64_t seed, int64_t max_words);

}  // namespace mechscope::training
