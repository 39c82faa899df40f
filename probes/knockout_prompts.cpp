#include "probes/knockout_prompts.h"

#include <ATen/ATen.h>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/knockout.h"
#include "probes/patching.h"
#include "probes/tensors.h"

namespace mechscope::probes {

std::vector<InputSpec> knockout_inputs() {
  return {{Input::Prompt, false, "the prompt (or use the task option)"},
          {Input::Answer, false, "the token whose probability is measured (default: the model's "
                                 "prediction)"},
          {Input::Image, false, "the image (vision-language models)"}};
}

std::vector<OptionSpec> knockout_options() {
  using T = OptionSpec::Type;
  return {{"window", T::Integer, 1, {}, 0.0, 4096.0,
           "layers blocked around each centre layer (Geva et al.: 9 of 32; 0 blocks nothing)"},
          {"task", T::String, "", task_choices(), {}, {},
           "run on this task's examples instead of the prompt (roles from their metadata)"},
          {"examples", T::Integer, 20, {}, 1.0, 10000.0, "with a task: examples drawn"},
          {"seed", T::Integer, 0, {}, 0.0, 2147483647.0, "with a task: seed of the examples"}};
}

at::Tensor window_table(int64_t n_layers, int64_t window) {
  at::Tensor t = at::zeros({n_layers, n_layers}, at::kBool);
  for (int64_t c = 0; c < n_layers; ++c)
    for (int64_t l : window_layers(c, window, n_layers)) t[c][l] = true;
  return t;
}

namespace {

/// The clean run's last-position distribution [d_vocab] (CPU, float) — computed exactly as
/// knockout_probabilities computes its own clean run, so experiments that block nothing change
/// nothing.
at::Tensor clean_distribution(const Model& model, const std::vector<int64_t>& tokens,
                              const at::Tensor& pixels) {
  const KindCache clean = run_with_kinds(model, prompt_tensor(model, tokens), {}, false, pixels);
  return at::softmax(clean.logits.select(1, -1).to(at::kFloat), -1)[0].to(at::kCPU);
}

}  // namespace

KnockoutPrompts knockout_prompts(const Model& model, const ProbeInputs& in, const Options& options) {
  KnockoutPrompts out;
  const std::string task = options.string("task");
  if (task.empty()) {
    if (in.tokens.empty())
      throw Error("Give a prompt (--prompt TEXT) or a task (--option task=NAME).");
    KnockoutPrompt p;
    p.tokens = in.tokens;
    p.image = in.image_rgb;
    p.pixels = prompt_pixels(model, in);
    p.roles = prompt_roles(model, p.tokens);
    const at::Tensor dist = clean_distribution(model, p.tokens, p.pixels);
    p.answer = in.answer_id ? *in.answer_id : dist.argmax().item<int64_t>();
    p.p_clean = dist[p.answer].item<double>();
    if (p.p_clean <= 0)
      throw Error("The answer has probability 0 on the clean prompt: no relative change exists.");
    out.meta = {{"answer_id", p.answer},
                {"answer_source", in.answer_id ? "given" : "prediction"},
                {"p_clean", p.p_clean},
                {"examples_total", 1},
                {"examples_kept", 1}};
    out.items.push_back(std::move(p));
    return out;
  }
  out.from_task = true;
  const int64_t n = options.integer("examples");
  double p_sum = 0;
  for (auto& tp : task_prompts(model, task, n, uint64_t(options.integer("seed")))) {
    KnockoutPrompt p;
    p.tokens = std::move(tp.tokens);
    p.image = std::move(tp.image);
    if (!p.image.empty()) {
      ProbeInputs with_image;
      with_image.image_rgb = p.image;
      p.pixels = prompt_pixels(model, with_image);
    }
    const at::Tensor dist = clean_distribution(model, p.tokens, p.pixels);
    if (dist.argmax().item<int64_t>() != tp.answer_id) continue;  // answered wrongly
    p.answer = tp.answer_id;
    p.p_clean = dist[p.answer].item<double>();
    p.roles = std::move(tp.roles);
    p_sum += p.p_clean;
    out.items.push_back(std::move(p));
  }
  if (out.items.empty())
    throw Error("The model answers none of the " + std::to_string(n) + " examples of '" + task +
                "' correctly: there is nothing to knock out.");
  out.meta = {{"answer_source", "task"},
              {"task", task},
              {"p_clean", p_sum / double(out.items.size())},
              {"examples_total", n},
              {"examples_kept", out.items.size()}};
  return out;
}

}  // namespace mechscope::probes
