// mechscope-cli cache: runs prompts and writes logits and the requested activations to HDF5.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/io/hdf5_writer.h"
#include "core/util/error.h"

namespace mechscope::cli {

int cmd_cache(const std::vector<std::string>& argv) {
  auto specs = model_options();
  for (auto& o : sae_splice_options()) specs.push_back(o);
  specs.push_back({"prompt", "TEXT", "a prompt (repeat with '\\n---\\n' separators for a batch)"});
  specs.push_back({"tokens", "ID,ID,…", "the prompt as token ids"});
  specs.push_back({"image", "FILE", "a PNG or JPEG image for the (single) prompt (vision-language "
                                    "models)"});
  specs.push_back({"out", "FILE.h5", "output HDF5 file", true});
  specs.push_back({"names", "REGEX", "keep only hook points whose names match (default: all)"});
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("cache",
                       "Runs the model and writes /tokens, /logits [batch, pos, d_vocab] and "
                       "/cache/<hook name> (float32, batch kept) to an HDF5 file.",
                       specs);
    return 0;
  }
  auto model = load_model_from_args(args);
  c10::InferenceMode guard;
  at::Tensor tokens, mask, pixels;
  if (args.has("image")) {
    std::vector<int64_t> ids;
    std::tie(ids, pixels) = prompt_with_image(*model, args);
    tokens = at::tensor(ids, at::kLong).unsqueeze(0);
    mask = at::ones_like(tokens);
  } else if (args.has("prompt") && !args.has("tokens")) {
    // Several prompts separated by a line "---" form a right-padded batch.
    std::vector<std::string> prompts;
    std::string text = args.get("prompt"), sep = "\n---\n";
    for (size_t pos; (pos = text.find(sep)) != std::string::npos; text = text.substr(pos + sep.size()))
      prompts.push_back(text.substr(0, pos));
    prompts.push_back(text);
    std::tie(tokens, mask) = model->tokenize(prompts);
  } else {
    tokens = at::tensor(prompt_tokens(*model, args), at::kLong).unsqueeze(0);
    mask = at::ones_like(tokens);
  }
  NameFilter keep = args.has("names") ? names_matching(args.get("names")) : NameFilter();
  CacheFile out;
  out.activations = model->run_with_cache(tokens, mask, keep, &out.logits, pixels);
  out.tokens = tokens;
  out.attention_mask = mask;
  out.attributes["model"] = model->source().path;
  out.attributes["config"] = model->config().to_json().dump();
  out.attributes["mechscope_version"] = MECHSCOPE_VERSION;
  write_cache_h5(args.get("out"), out);
  std::cout << "Wrote " << args.get("out") << ": logits [" << out.logits.size(0) << ", "
            << out.logits.size(1) << ", " << out.logits.size(2) << "] and "
            << out.activations.size() << " activations.\n";
  return 0;
}

}  // namespace mechscope::cli
