// mechscope-cli generate: prints the prompt and its continuation, streaming tokens as they come.
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/model/generate.h"
#include "core/util/error.h"

namespace mechscope::cli {

int cmd_generate(const std::vector<std::string>& argv) {
  auto specs = model_options();
  for (auto& o : sae_splice_options()) specs.push_back(o);
  specs.push_back({"prompt", "TEXT", "the prompt (BOS is added as the tokenizer says)"});
  specs.push_back({"tokens", "ID,ID,…", "the prompt as token ids instead of text"});
  specs.push_back({"image", "FILE", "a PNG or JPEG image (vision-language models; the prompt's "
                                    "<image> token, or one after BOS, stands for it)"});
  specs.push_back({"max-new-tokens", "N", "tokens to generate (default 32)"});
  specs.push_back({"temperature", "T", "sampling temperature; greedy when absent or 0"});
  specs.push_back({"top-k", "K", "sample from the K most likely tokens only"});
  specs.push_back({"seed", "S", "random seed for sampling (default 0)"});
  specs.push_back({"no-cache", "", "recompute the whole sequence for every new token instead of "
                                   "keeping a KV cache (same tokens, slower; for comparison)"});
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("generate", "Generates a continuation (greedy unless --temperature).",
                       specs);
    return 0;
  }
  auto model = load_model_from_args(args);
  const auto [prompt, pixels] = prompt_with_image(*model, args);
  GenerateOptions opts;
  opts.pixel_values = &pixels;
  opts.max_new_tokens = args.integer("max-new-tokens", 32);
  if (opts.max_new_tokens < 0) throw Error("--max-new-tokens must not be negative.");
  opts.temperature = args.number("temperature", 0.0);
  opts.top_k = args.integer("top-k", 0);
  opts.seed = static_cast<uint64_t>(args.integer("seed", 0));
  opts.use_cache = !args.has("no-cache");
  const Tokenizer* tok = model->tokenizer();
  if (tok != nullptr) {
    std::cout << (args.has("prompt") && !pixels.defined() ? args.get("prompt")
                                                          : tok->decode(prompt, true));
  } else {
    for (size_t i = 0; i < prompt.size(); ++i) std::cout << (i ? "," : "") << prompt[i];
  }
  std::cout.flush();
  // Decode prompt + continuation each step and print what is new, so multi-byte characters
  // print whole and the first new token keeps its leading space (decoding the continuation
  // alone would strip it as a sentence start).
  const std::string prompt_text = tok != nullptr ? tok->decode(prompt, true) : "";
  std::vector<int64_t> all = prompt;
  std::string printed;
  auto print_new = [&](bool final) {
    std::string text = tok->decode(all, true);
    text = text.compare(0, prompt_text.size(), prompt_text) == 0 ? text.substr(prompt_text.size())
                                                                  : text;
    // An unfinished multi-byte character decodes as U+FFFD: wait for the rest.
    while (!final && text.size() >= 3 && text.compare(text.size() - 3, 3, "\xEF\xBF\xBD") == 0)
      text.resize(text.size() - 3);
    if (text.size() > printed.size() && text.compare(0, printed.size(), printed) == 0) {
      std::cout << text.substr(printed.size());
      printed = text;
    }
  };
  install_interrupt_handler();
  opts.on_token = [&](int64_t t) {
    all.push_back(t);
    if (tok != nullptr) {
      print_new(false);
    } else {
      std::cout << "," << t;
    }
    std::cout.flush();
    return !interrupted();
  };
  generate(*model, prompt, opts);
  if (tok != nullptr) print_new(true);
  std::cout << "\n";
  if (interrupted()) {
    std::cerr << "Interrupted.\n";
    return 130;
  }
  return 0;
}

}  // namespace mechscope::cli
