#include "probes/run_probe.h"

#include <algorithm>
#include <atomic>
#include <memory>

#include "core/model/model.h"
#include "core/model/vision.h"
#include "core/util/cancel.h"
#include "core/util/error.h"
#include "probes/options.h"
#include "probes/result_meta.h"

namespace mechscope::probes {

namespace {

const char* how_to_give(Input input) {
  switch (input) {
    case Input::Prompt: return "--prompt TEXT or --tokens IDS";
    case Input::Corrupt: return "--corrupt TEXT or --corrupt-tokens IDS";
    case Input::Answer: return "--answer TEXT or --answer-id ID";
    case Input::Wrong: return "--wrong TEXT or --wrong-id ID";
    case Input::Image: return "--image FILE";
  }
  return "";
}

std::string tokens_text(const Model& model, const std::vector<int64_t>& ids) {
  std::string s;
  const auto labels = token_labels(model, ids);
  for (size_t i = 0; i < ids.size(); ++i)
    s += (i ? ", " : "") + std::string("'") + labels[i] + "' (" + std::to_string(ids[i]) + ")";
  return s;
}

void check_id(const Model& model, int64_t id, const std::string& what) {
  if (id < 0 || id >= model.config().d_vocab)
    throw Error("The " + what + " token id " + std::to_string(id) + " is outside the vocabulary (d_vocab = " +
                std::to_string(model.config().d_vocab) + ").");
}

}  // namespace

int64_t single_token(const Model& model, const std::string& text, const std::string& what) {
  if (model.tokenizer() == nullptr)
    throw Error("The model has no tokenizer to read the " + what + " '" + text +
                "': give its token id instead.");
  const std::vector<int64_t> ids = model.tokenizer()->encode(text, false).ids;
  if (ids.size() != 1)
    throw Error("The " + what + " '" + text + "' is " + std::to_string(ids.size()) +
                " tokens, not one: " + (ids.empty() ? std::string("none") : tokens_text(model, ids)) +
                ". Give a single-token " + what + " (often with a leading space, e.g. ' Mary').");
  return ids[0];
}

void prepare_image_tokens(const Model& model, ProbeInputs& inputs) {
  const auto image_id = model.image_token_id();
  const bool has_image = !inputs.image.empty() || !inputs.image_rgb.empty();
  if (!model.vision()) {
    if (has_image)
      throw Error("The model " + model.source().path +
                  " is not a vision-language model: it cannot read an image.");
    return;
  }
  if (inputs.image_rgb.empty() && !inputs.image.empty())
    inputs.image_rgb = read_image_file(inputs.image);
  auto count = [&](const std::vector<int64_t>& ids) {
    return std::count(ids.begin(), ids.end(), *image_id);
  };
  const int64_t n_image = model.vision()->tokens_per_image();
  auto prepare = [&](std::vector<int64_t>& ids) {
    const int64_t n = count(ids);
    if (n == 0 && has_image) {
      // No <image> in the text: the image goes first, after BOS (LLaVA's usual layout).
      const auto bos = model.config().bos_token_id;
      const size_t at = !ids.empty() && bos && ids[0] == *bos ? 1 : 0;
      ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(at), *image_id);
    } else if (n > 0 && !has_image) {
      throw Error("The prompt has an image token but no image was given (--image FILE).");
    } else if (n != 1 && n != n_image) {
      throw Error("The prompt has " + std::to_string(n) + " image tokens; one image per prompt " +
                  "is supported (one <image> token, or " + std::to_string(n_image) + " expanded).");
    }
    if (count(ids) == 1) ids = model.expand_image_tokens(ids);
  };
  if (!inputs.tokens.empty()) prepare(inputs.tokens);
  if (inputs.corrupt_tokens) prepare(*inputs.corrupt_tokens);
}

Result run_probe(const Probe& probe, const Model& model, ProbeInputs inputs,
                 const nlohmann::json& options, const Progress& progress) {
  const ProbeInfo& info = probe.info();
  const nlohmann::json resolved = resolve_options(info.options, options);

  std::string missing;
  for (const InputSpec& s : info.inputs)
    if (s.required && !inputs.has(s.input))
      missing += std::string(missing.empty() ? "" : "; ") + input_name(s.input) + " (" +
                 how_to_give(s.input) + ")";
  if (!missing.empty())
    throw Error("The probe '" + info.name + "' needs: " + missing + ".");

  if (info.needs(Input::Corrupt) && inputs.corrupt_tokens &&
      inputs.corrupt_tokens->size() != inputs.tokens.size())
    throw Error("The corrupted prompt has " + std::to_string(inputs.corrupt_tokens->size()) +
                " tokens and the prompt " + std::to_string(inputs.tokens.size()) +
                "; patching needs the same number of tokens.");
  if (info.needs(Input::Answer) && !inputs.answer_id && !inputs.answer.empty())
    inputs.answer_id = single_token(model, inputs.answer, "answer");
  if (info.needs(Input::Wrong) && !inputs.wrong_id && !inputs.wrong.empty())
    inputs.wrong_id = single_token(model, inputs.wrong, "wrong answer");
  if (inputs.answer_id) check_id(model, *inputs.answer_id, "answer");
  if (inputs.wrong_id) check_id(model, *inputs.wrong_id, "wrong answer");
  if (inputs.answer_id && inputs.wrong_id && *inputs.answer_id == *inputs.wrong_id)
    throw Error("The answer and the wrong answer are the same token (" +
                std::to_string(*inputs.answer_id) + ").");

  if (info.needs(Input::Image)) {
    prepare_image_tokens(model, inputs);
  } else if (const auto image = model.image_token_id();
             image && std::count(inputs.tokens.begin(), inputs.tokens.end(), *image) > 0) {
    throw Error("The prompt has an image token, and the probe '" + info.name +
                "' does not take images: remove <image> from the prompt, or use a probe that "
                "reads images (attention, logit_lens, attention_knockout, information_flow).");
  }

  report(progress, 0.0);
  // Cancel also reaches into the probe's forward passes: each block asks again with the last
  // fraction reported (core/util/cancel.h), so a long pass does not delay the stop.
  auto last = std::make_shared<std::atomic<double>>(0.0);
  const Progress tracked = [&progress, last](double f) {
    last->store(f);
    return !progress || progress(f);
  };
  const CancelScope scope([&progress, last] { return progress && !progress(last->load()); });
  Result result = probe.run(model, inputs, Options(resolved), tracked);
  result.probe = info.name;
  if (result.id.empty()) result.id = info.name + "-1";
  if (result.title.empty()) result.title = result_title(info.title, inputs.prompt);
  if (!result.meta.is_object()) result.meta = nlohmann::json::object();
  result.meta.update(result_meta(model, info.name, resolved, inputs.to_json()));
  result.validate();
  return result;
}

}  // namespace mechscope::probes
