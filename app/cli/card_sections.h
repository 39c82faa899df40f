#pragma once
// The model card's mechanism sections: what `mechscope-cli card` measures beyond accuracy, one
// function per kind of model. Each appends Markdown to `md` and the measured figures to `card`.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "core/model/hooks.h"
#include "probes/tasks/task.h"

namespace mechscope {
class Model;
}

namespace mechscope::cli {

struct CardContext {
  const Model& model;
  const std::map<std::string, std::vector<tasks::Example>>& held_out;  // task → examples
  const std::map<std::string, double>& clean;                          // task → accuracy
  uint64_t seed;
  /// Accuracy per task on the held-out examples with `hooks` in every forward pass.
  std::function<std::map<std::string, double>(const HookSet*)> accuracy_with;
};

std::string pct(double x);
std::string fixed(double x, int digits = 2);
std::string head_name(const std::pair<int64_t, int64_t>& h);

/// Previous-token and induction heads (the head_detector probe), copying accuracy on random
/// repeated words, the accuracy when those heads are mean-ablated versus as many random heads,
/// retrieval heads and masking them on the needle task (retrieval_heads, head_masking), and the
/// composition of the induction heads.
void write_text_mechanisms(const CardContext& ctx, std::ostream& md, nlohmann::json& card);

/// Q/K/V composition of `receivers` (the induction heads) with every earlier head, against the
/// random-matrix baseline (the composition probe).
void write_composition(const CardContext& ctx,
                       const std::vector<std::pair<int64_t, int64_t>>& receivers,
                       std::ostream& md, nlohmann::json& card);

/// Accuracy by question type, the image mean-ablated, attention knockout from the text
/// positions to the image positions layer by layer (where the language model reads the image),
/// and Zhang et al.'s cross-modal information-flow curves (the information_flow probe).
void write_vlm_mechanisms(const CardContext& ctx, std::ostream& md, nlohmann::json& card);
/// The information-flow section of write_vlm_mechanisms.
void write_information_flow(const CardContext& ctx, std::ostream& md, nlohmann::json& card);

}  // namespace mechscope::cli
