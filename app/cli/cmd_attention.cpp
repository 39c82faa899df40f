// mechscope-cli attention: runs the attention probe on a prompt and stores the Result in a
// `.mscope` session (a new one, or appended to an existing one with --append).
#include <filesystem>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/session/session.h"
#include "probes/attention.h"
#include "probes/result_meta.h"

namespace mechscope::cli {
namespace {

/// A new session referring to `model`, with no results and empty view state.
Session new_session(const Model& model, const Args& args) {
  Session session;
  session.model = probes::model_identity(model);
  if (auto tokenizer = args.optional("tokenizer"))  // needed to reopen a llama2.c model
    session.model["tokenizer"] = std::filesystem::absolute(*tokenizer).lexically_normal().string();
  session.views = {{"workbench", nlohmann::json::object()}, {"results", nlohmann::json::object()}};
  return session;
}

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
  const std::filesystem::path out = args.get("out");
  const bool append = args.has("append") && std::filesystem::exists(out);
  // Read the session first: a bad file fails before the model runs.
  Session session = append ? load_session(out) : Session();
  auto model = load_model_from_args(args);
  if (!append) session = new_session(*model, args);

  install_interrupt_handler();
  probes::AttentionOptions options;
  options.prompt = args.get("prompt");
  options.progress = [](double) { return !interrupted(); };
  const std::vector<int64_t> tokens = prompt_tokens(*model, args);
  if (options.prompt.empty() && model->tokenizer() != nullptr)
    options.prompt = model->tokenizer()->decode(tokens, true);
  Result result = probes::attention_result(*model, tokens, options);
  result.id = session.next_id(result.probe);

  bool known_prompt = options.prompt.empty();
  for (const SessionPrompt& p : session.prompts) known_prompt |= p.text == options.prompt;
  if (!known_prompt) session.prompts.push_back({options.prompt, "", ""});
  const Array& pattern = result.array("pattern");
  const std::string summary = result.id + ": pattern " + shape_text(pattern);
  session.results.push_back(std::move(result));
  save_session(session, out);
  std::cout << (append ? "Added " : "Wrote ") << summary << " to " << out.string() << " ("
            << session.results.size() << " result" << (session.results.size() == 1 ? "" : "s")
            << ").\n";
  return 0;
}

}  // namespace mechscope::cli
