#pragma once
/// The attention probe: every head's attention pattern on one prompt, as a Result that views
/// draw, sessions store and exports render.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/image/image_file.h"
#include "core/session/result.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct AttentionOptions {
  /// The text the tokens came from; recorded in the meta and the title only (may be empty).
  std::string prompt;
  /// Optional. Called with the fraction done (0 before the run, then after each layer, 1 last);
  /// returning false cancels: the run stops and attention_result throws mechscope::Cancelled.
  std::function<bool(double)> progress;
  /// Vision-language models: the image the prompt's (expanded) image tokens stand for.
  RgbImage image;
};

/// Runs `model` once on `tokens` (one prompt) and keeps every blocks.{l}.attn.hook_pattern.
/// Result: probe "attention", id "attention-1" (callers adding it to a session give it
/// Session::next_id("attention")), title "Attention — <prompt>", array "pattern" float32
/// [layer, head, query, key] with labels "L0"…, "H0"… and each token decoded alone on the query
/// and key axes; meta as probes::result_meta with inputs {"prompt", "tokens"}.
/// Throws mechscope::Error for an empty prompt or ids the model rejects.
Result attention_result(const Model& model, const std::vector<int64_t>& tokens,
                        const AttentionOptions& options = {});

}  // namespace mechscope::probes
