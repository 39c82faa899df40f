#pragma once
/// What the knockout probes (attention_knockout, information_flow) share: the prompts they run
/// on — the user's prompt (and image), or a task's examples the model answers correctly — with
/// their answers, clean probabilities and position roles; their inputs and common options.
#include <ATen/Tensor.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "probes/position_roles.h"
#include "probes/probe.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct KnockoutPrompt {
  std::vector<int64_t> tokens;
  at::Tensor pixels;    ///< [1, 3, S, S], or undefined without an image
  RgbImage image;       ///< the image as given (for views), or empty
  int64_t answer = -1;  ///< the token whose probability is measured
  double p_clean = 0;   ///< its probability without knockout
  PositionRoles roles;
};

struct KnockoutPrompts {
  std::vector<KnockoutPrompt> items;
  bool from_task = false;
  /// {"answer_id", "answer_source" (given | prediction | task), "p_clean", "examples_total",
  /// "examples_kept"}.
  nlohmann::json meta;
};

/// Prompt, answer and image, all optional (a task can stand in for them).
std::vector<InputSpec> knockout_inputs();
/// window, task, examples, seed.
std::vector<OptionSpec> knockout_options();

/// [n_layers (centre), n_layers] bool: row ℓ marks the window of `window` layers centred on ℓ.
at::Tensor window_table(int64_t n_layers, int64_t window);

/// With option task = "": the prompt (its answer, or the model's own prediction). Otherwise
/// `examples` examples of the task (seed `seed`), kept when the model's top prediction is the
/// answer (Geva et al., Zhang et al.). Throws mechscope::Error when there is no prompt and no
/// task, or no example is answered correctly.
KnockoutPrompts knockout_prompts(const Model& model, const ProbeInputs& in, const Options& options);

}  // namespace mechscope::probes
