#pragma once
// What several CLI commands share: the model options, loading, and parsing prompts/token lists.
#include <memory>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "core/model/model.h"

namespace mechscope::cli {

/// --model, --tokenizer, --device, --dtype.
std::vector<OptionSpec> model_options();
/// --sae, --sae-error, --steer: an SAE spliced into every forward pass (commands that run the
/// model: run, generate, cache). load_model_from_args applies them when the command declares them.
std::vector<OptionSpec> sae_splice_options();
std::unique_ptr<Model> load_model_from_args(const Args& args);
/// "1,2,3" → ids; throws mechscope::Error on anything else.
std::vector<int64_t> parse_token_list(const std::string& text);
/// The prompt as token ids (--prompt through the tokenizer, or --tokens).
std::vector<int64_t> prompt_tokens(const Model& model, const Args& args);

/// The prompt with its image (--image FILE, vision-language models): the tokens with the image's
/// positions expanded (an image without an <image> token goes after BOS) and the pixel values
/// [1, 3, S, S] (undefined without --image). Throws mechscope::Error naming the file or problem.
std::pair<std::vector<int64_t>, at::Tensor> prompt_with_image(const Model& model, const Args& args);
/// Set by SIGINT: long commands stop cleanly.
bool interrupted();
void install_interrupt_handler();

}  // namespace mechscope::cli
