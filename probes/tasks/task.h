#pragma once
/// Task generators: the prompts mechscope's own small models are trained on and probed with
/// (IOI, induction, greater-than, needle-in-a-haystack, MQAR, multiple-choice letters, colored
/// objects, laundry lists, shapes VQA). Plain C++: no LibTorch, no Qt.
///
/// Our models use a word-level tokenizer (one token per whitespace-separated word), so every
/// example is a list of words: punctuation and digits are words of their own ("store ,", years as
/// two 2-digit words "17 32", codes as single digits "4 7 1"), and word counts are token counts.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace mechscope::tasks {

/// An RGB image, channel-major [3, height, width], values in [0, 1].
struct Image {
  int64_t height = 0, width = 0;
  std::vector<float> pixels;  // [3, height, width]

  /// The value of channel `c` at row `y`, column `x`.
  float at(int64_t c, int64_t y, int64_t x) const { return pixels[(c * height + y) * width + x]; }
};

/// One task instance: a clean prompt, its answer, and a matched corrupted prompt.
struct Example {
  std::string task;                  ///< The task's name.
  std::vector<std::string> prompt;   ///< Words the model reads (no BOS: the tokenizer adds it).
  std::vector<std::string> answer;   ///< The expected next word(s).
  std::vector<std::string> corrupt;  ///< Matched corrupted prompt, as many words as `prompt`.
  /// The corrupted prompt's natural answer, or the wrong answer for a logit difference
  /// (task-specific: see each task's description).
  std::vector<std::string> corrupt_answer;
  /// Positions (word indices into `prompt`, 0-based, without BOS) and other facts about the
  /// instance: names, template id, depth, ... `predictable_from` (optional): prompt words from
  /// this index on are determined by earlier ones, so training may supervise them too;
  /// `predictable` (optional): a list of single such word indices.
  nlohmann::json meta = nlohmann::json::object();
  std::optional<Image> image;  ///< Shapes VQA only: the image the prompt's <image> stands for.
  /// Shapes VQA only: the corrupted prompt's image (the corrupted prompt keeps the question).
  std::optional<Image> corrupt_image;

  /// A rendering for people: punctuation attached to the word before it, adjacent digit words
  /// joined ("store, John", "1732").
  std::string text() const;
};

/// Renders words as `Example::text()` does.
std::string render_words(const std::vector<std::string>& words);

struct TaskOptions {
  /// The model's context budget in words; prompts never exceed it (BOS not counted).
  int64_t max_words = 128;
};

/// A seeded generator of examples of one task.
class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  /// One paragraph: the format, the answer, what the corrupted prompt changes.
  virtual std::string description() const = 0;
  /// One example drawn with `rng`. Throws mechscope::Error when `options.max_words` is too small
  /// for the task.
  virtual Example sample(std::mt19937_64& rng, const TaskOptions& options) const = 0;
  /// Every word this task can emit (for building the project's vocabulary), sorted, unique.
  virtual std::vector<std::string> vocabulary() const = 0;
};

/// The text tasks in order (induction, ioi, greater_than, needle, mqar, mc_letter,
/// colored_objects, laundry_list), then shapes_vqa.
std::vector<std::unique_ptr<Task>> all_tasks();

/// The task called `name`; throws mechscope::Error listing the known names otherwise.
std::unique_ptr<Task> make_task(const std::string& name);

/// The names of all tasks, in the order of all_tasks().
std::vector<std::string> task_names();

/// The seed of example `index` of a batch generated from `seed`.
uint64_t example_seed(uint64_t seed, uint64_t index);

/// A deterministic batch: example i (0 <= i < n) is drawn from example_seed(seed, i), so the same
/// seed gives the same examples whatever n is.
std::vector<Example> generate(const Task& task, uint64_t seed, int64_t n,
                              const TaskOptions& options = {});

}  // namespace mechscope::tasks
