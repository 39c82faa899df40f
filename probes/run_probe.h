#pragma once
/// Running a probe the one way the workbench, the CLI and plugins share: options resolved against
/// the probe's schema, inputs checked, answers turned into token ids, and the Result stamped with
/// the metadata every Result carries.
#include <nlohmann/json.hpp>

#include "core/session/result.h"
#include "probes/probe.h"

namespace mechscope::probes {

/// Runs `probe` on `model`. `options` (an object, or null for the defaults) is resolved first;
/// then every required input must be present (the error names the missing ones and how to give
/// them), a corrupted prompt must have as many tokens as the prompt, and an answer or wrong
/// answer given as text must be exactly one token of the model's tokenizer. The Result gets
/// probe = the probe's name, a non-empty id ("<name>-1"; sessions give it a fresh one), a title,
/// and meta = result_meta (probe, resolved options, model identity, inputs, version, time)
/// merged over the meta the probe set itself. Throws mechscope::Error, or Cancelled.
Result run_probe(const Probe& probe, const Model& model, ProbeInputs inputs,
                 const nlohmann::json& options = nullptr, const Progress& progress = {});

/// For a probe that takes an image: decodes `inputs.image` into image_rgb (when empty), and
/// makes the prompt (and corrupted prompt) hold the image's positions — a lone image token is
/// expanded to tokens_per_image; a prompt without one gets it after BOS. Throws mechscope::Error
/// for an image given to a text-only model, an image token without an image, or several images.
/// Does nothing for a text-only model without an image.
void prepare_image_tokens(const Model& model, ProbeInputs& inputs);

/// The one token `text` encodes to (without BOS). Throws naming `what` ("answer") and the
/// tokens when it is not exactly one, or when the model has no tokenizer.
int64_t single_token(const Model& model, const std::string& text, const std::string& what);

}  // namespace mechscope::probes
