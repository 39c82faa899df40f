#include "probes/tasks/task.h"

#include <cctype>

#include "core/util/error.h"
#include "probes/tasks/colored_objects.h"
#include "probes/tasks/greater_than.h"
#include "probes/tasks/induction.h"
#include "probes/tasks/ioi.h"
#include "probes/tasks/laundry_list.h"
#include "probes/tasks/mc_letter.h"
#include "probes/tasks/mqar.h"
#include "probes/tasks/needle.h"
#include "probes/tasks/shapes_vqa.h"
#include "probes/tasks/task_util.h"

namespace mechscope::tasks {

namespace {

bool is_punctuation(const std::string& w) {
  return w == "," || w == "." || w == "?" || w == "!" || w == ":" || w == ";";
}

bool is_digits(const std::string& w) {
  if (w.empty()) return false;
  for (char c : w) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string render_words(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    const bool attach = i > 0 && (is_punctuation(w) || (is_digits(w) && is_digits(words[i - 1])));
    if (i > 0 && !attach) out += ' ';
    out += w;
  }
  return out;
}

std::string Example::text() const { return render_words(prompt); }

std::vector<std::unique_ptr<Task>> all_tasks() {
  std::vector<std::unique_ptr<Task>> out;
  out.push_back(std::make_unique<InductionTask>());
  out.push_back(std::make_unique<IoiTask>());
  out.push_back(std::make_unique<GreaterThanTask>());
  out.push_back(std::make_unique<NeedleTask>());
  out.push_back(std::make_unique<MqarTask>());
  out.push_back(std::make_unique<McLetterTask>());
  out.push_back(std::make_unique<ColoredObjectsTask>());
  out.push_back(std::make_unique<LaundryListTask>());
  out.push_back(std::make_unique<ShapesVqaTask>());
  return out;
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const auto& t : all_tasks()) names.push_back(t->name());
  return names;
}

std::unique_ptr<Task> make_task(const std::string& name) {
  std::string known;
  for (auto& t : all_tasks()) {
    if (t->name() == name) return std::move(t);
    known += (known.empty() ? "" : ", ") + t->name();
  }
  throw Error("There is no task called '" + name + "'; the tasks are " + known + ".");
}

uint64_t example_seed(uint64_t seed, uint64_t index) {
  return util::mix64(util::mix64(seed) ^ util::mix64(index + 0x632be59bd9b4e019ULL));
}

std::vector<Example> generate(const Task& task, uint64_t seed, int64_t n,
                              const TaskOptions& options) {
  std::vector<Example> out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) {
    std::mt19937_64 rng(example_seed(seed, static_cast<uint64_t>(i)));
    out.push_back(task.sample(rng, options));
  }
  return out;
}

}  // namespace mechscope::tasks
