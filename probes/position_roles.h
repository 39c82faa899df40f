#pragma once
/// Named sets of positions in a prompt — the token roles of the knockout probes ("last",
/// "question", "image", "subject", "image_object", …) — and task examples turned into model
/// inputs with the roles their metadata gives.
#include <ATen/Tensor.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/image/image_file.h"
#include "probes/tasks/task.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

/// role → positions (sorted, unique) of one prompt.
using PositionRoles = std::map<std::string, std::vector<int64_t>>;

/// The roles every prompt has, from its tokens alone: "bos" (when the first token is BOS),
/// "last", "image" (image positions of a vision-language prompt), "text" (every other position
/// but BOS) and "question" (the text after the image, or all text, without BOS and the last
/// position).
PositionRoles prompt_roles(const Model& model, const std::vector<int64_t>& tokens);

/// A task example as model input.
struct TaskPrompt {
  std::vector<int64_t> tokens;  ///< BOS, the words, the image's positions expanded
  RgbImage image;               ///< shapes VQA: the example's image
  int64_t answer_id = -1;       ///< the first answer word
  std::vector<int64_t> answer_ids;  ///< every answer word
  PositionRoles roles;          ///< prompt_roles plus the task's own (see task_prompt)
};

/// Encodes `example` for `model` (a mechscope word-level model: one token per word) and adds the
/// roles its metadata names: "question" from question_start (needle, mc_letter); "subject" —
/// needle: the needle sentence, ioi: both S names, colored_objects: the asked object in the
/// list and in the question, induction: the earlier copy of the last word, shapes_vqa: the
/// question's shape or colour word; shapes_vqa "image_object" (the image patches of the asked
/// shape's grid cell) and "image_background" (every other image patch). Throws mechscope::Error
/// when the model's tokenizer does not give one token per word.
TaskPrompt task_prompt(const Model& model, const tasks::Example& example);

/// `n` examples of the task `task` (seeded as tasks::generate) that fit the model's context, as
/// model inputs. Throws mechscope::Error for an unknown task (listing the known ones).
std::vector<TaskPrompt> task_prompts(const Model& model, const std::string& task, int64_t n,
                                     uint64_t seed);

/// The names a probe's `task` option accepts: "" (none: the user's prompt) and every task.
std::vector<std::string> task_choices();

/// Parses a position set: comma-separated role names and indices ("3", "-1" = last, "2:5" =
/// 2, 3, 4), unioned. Throws mechscope::Error naming an unknown role (with the roles this prompt
/// has) or an index outside [0, T).
std::vector<int64_t> parse_positions(const std::string& spec, const PositionRoles& roles, int64_t T);

/// An 8-bit copy of a task image ([3, H, W] floats in [0, 1]).
RgbImage to_rgb(const tasks::Image& image);

}  // namespace mechscope::probes
