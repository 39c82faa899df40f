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
std::unique_ptr<Model> load_model_from_args(const Args& args);
/// "1,2,3" → ids; throws mechscope::Error on anything else.
std::vector<int64_t> parse_token_list(const std::string& text);
/// The prompt as token ids (--prompt through the tokenizer, or --tokens).
std::vector<int64_t> prompt_tokens(const Model& model, const Args& args);
/// Set by SIGINT: long commands stop cleanly.
bool interrupted();
void install_interrupt_handler();

}  // namespace mechscope::cli
