// mechscope-cli attention: runs the attention probe on a prompt and stores the Result in a
// `.mscope` session (a new one, or appended to an existing one with --append).
#include <filesystem>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/cli_session.h"
#include "app/cli/commands.h"
#include "core/session/session.h"
#include "probes/attention.h"
#include "probes/result_meta.h"

namespace mechscope::cli {
namespace {

std::string shape_text(const Array& array) {
  std::string s = "[";
  for (size_t i = 0; i < array.shape.size(); ++i)
    s += (i ? ", " : "") + array.axes[i].name + " " + std::to_string(array.shape[i]);
  return s + "]";
}

}  // namespace

int cmd_attention(const std::vector<std::string>& argv) {
  auto specs = model_options();
  specs.push_back({"prompt", "TEXT", "the prompt"});
  specs.push_back({"tokens", "ID,ID,…", "the prompt as token ids (instead of --prompt)"});
  specs.push_back({"out", "SESSION.mscope", "the session file to write", true});
  specs.push_back({"append", "", "add the result to the session in --out (created when missing)"});
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("attention",
                       "Runs the model on a prompt and stores every head's attention pattern "
                       "(\"pattern\" [layer, head, query, key]) as a Result in a session file.",
                       specs);
    return 0;
  }
  ProbeSessionFile file(args);  // a bad session file fails before the model runs
  auto model = load_model_from_args(args);
  file.set_model(*model, args);

  install_interrupt_handler();
  probes::AttentionOptions options;
  options.prompt = args.get("prompt");
  options.progress = [](double) { return !interrupted(); };
  const std::vector<int64_t> tokens = prompt_tokens(*model, args);
  if (options.prompt.empty() && model->tokenizer() != nullptr)
    options.prompt = model->tokenizer()->decode(tokens, true);
  Result result = probes::attention_result(*model, tokens, options);
  const std::string shape = shape_text(result.array("pattern"));
  const std::string id = file.add(std::move(result), options.prompt);
  const size_t n = file.session().results.size();
  std::cout << (file.appending() ? "Added " : "Wrote ") << id << ": pattern " << shape << " to "
            << file.path().string() << " (" << n << " result" << (n == 1 ? "" : "s") << ").\n";
  return 0;
}

}  // namespace mechscope::cli
