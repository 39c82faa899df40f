// mechscope-cli run PROBE / probes: every probe of the registry from the command line. `run`
// takes only the inputs the probe declares, checks options against its schema before the model
// loads, and adds the Result to a `.mscope` session.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/cli_probes.h"
#include "app/cli/cli_session.h"
#include "app/cli/commands.h"
#include "core/util/error.h"
#include "probes/options.h"
#include "probes/run_probe.h"

namespace mechscope::cli {

using probes::Input;

namespace {

struct InputFlags {
  Input input;
  std::vector<OptionSpec> specs;
};

const std::vector<InputFlags>& input_flags() {
  static const std::vector<InputFlags> flags = {
      {Input::Prompt,
       {{"prompt", "TEXT", "the prompt"},
        {"tokens", "ID,ID,…", "the prompt as token ids (instead of --prompt)"}}},
      {Input::Corrupt,
       {{"corrupt", "TEXT", "the corrupted prompt (as many tokens as the prompt)"},
        {"corrupt-tokens", "ID,ID,…", "the corrupted prompt as token ids"}}},
      {Input::Answer,
       {{"answer", "TEXT", "the answer (one token, e.g. ' Mary')"},
        {"answer-id", "ID", "the answer as a token id"}}},
      {Input::Wrong,
       {{"wrong", "TEXT", "the wrong answer (one token)"},
        {"wrong-id", "ID", "the wrong answer as a token id"}}},
      {Input::Image, {{"image", "FILE", "an image (vision-language models)"}}},
  };
  return flags;
}

std::string shape_text(const Array& array) {
  std::string s = "[";
  for (size_t i = 0; i < array.shape.size(); ++i)
    s += (i ? ", " : "") + array.axes[i].name + " " + std::to_string(array.shape[i]);
  return s + "]";
}

/// The options given with --option NAME=VALUE (and --options JSON), checked and typed.
nlohmann::json given_options(const probes::ProbeInfo& info, const Args& args) {
  nlohmann::json given = nlohmann::json::object();
  if (auto text = args.optional("options")) {
    given = nlohmann::json::parse(*text, nullptr, false);
    if (given.is_discarded() || !given.is_object())
      throw Error("--options must be a JSON object, got: " + *text);
  }
  for (const std::string& item : args.all("option")) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error("--option takes NAME=VALUE, got '" + item + "'.");
    const std::string name = item.substr(0, eq);
    given[name] = probes::parse_option_text(info.options, name, item.substr(eq + 1));
  }
  probes::resolve_options(info.options, given);  // fails now, before the model loads
  return given;
}

std::vector<int64_t> id_list(const Model& model, const Args& args, const std::string& text_flag,
                             const std::string& ids_flag) {
  if (args.has(ids_flag)) return parse_token_list(args.get(ids_flag));
  if (model.tokenizer() == nullptr)
    throw Error("The model has no tokenizer: give --tokenizer PATH or --" + ids_flag + ".");
  return model.tokenizer()->encode(args.get(text_flag), true).ids;
}

}  // namespace

int run_probe_command(const probes::ProbeRegistry& registry, const std::string& name,
                      const std::string& command, const std::vector<std::string>& argv) {
  const probes::Probe& probe = registry.get(name);
  const probes::ProbeInfo& info = probe.info();
  auto specs = model_options();
  for (auto& o : sae_splice_options()) specs.push_back(o);
  for (const InputFlags& f : input_flags())
    if (info.needs(f.input)) specs.insert(specs.end(), f.specs.begin(), f.specs.end());
  if (!info.options.empty()) {
    specs.push_back({"option", "NAME=VALUE", "a probe option (repeatable; see below)"});
    specs.push_back({"options", "JSON", "probe options as one JSON object"});
  }
  specs.push_back({"out", "SESSION.mscope", "the session file to write", true});
  specs.push_back({"append", "", "add the result to the session in --out (created when missing)"});
  Args args(argv, specs);
  if (args.help()) {
    std::string text = info.description + "\n\nProbe options:";
    for (const auto& o : info.options) {
      text += "\n  " + o.name + " (" + probes::type_name(o.type) + ", default " +
              o.default_value.dump() + ")";
      if (!o.choices.empty()) {
        std::string c;
        for (const auto& s : o.choices) c += (c.empty() ? "" : "|") + s;
        text += " " + c;
      }
      text += ": " + o.help;
    }
    if (info.options.empty()) text += " none";
    text += "\n\nArrays:";
    for (const auto& a : info.arrays) {
      std::string axes;
      for (const auto& x : a.axes) axes += (axes.empty() ? "" : ", ") + x;
      text += "\n  " + a.name + " [" + axes + "]: " + a.help;
    }
    std::cout << usage(command, text, specs);
    return 0;
  }
  // Everything that can be checked without the model, first.
  std::string missing;
  for (const probes::InputSpec& s : info.inputs) {
    if (!s.required) continue;
    bool given = false;
    for (const InputFlags& f : input_flags())
      if (f.input == s.input)
        for (const OptionSpec& o : f.specs) given = given || args.has(o.name);
    if (given) continue;
    std::string flags;
    for (const InputFlags& f : input_flags())
      if (f.input == s.input)
        for (const OptionSpec& o : f.specs) flags += (flags.empty() ? "--" : " or --") + o.name;
    missing += (missing.empty() ? "" : ", ") + flags;
  }
  if (!missing.empty())
    throw Error("The probe '" + name + "' needs " + missing + " (see --help).");
  const nlohmann::json options = given_options(info, args);

  ProbeSessionFile file(args);  // a bad session file fails before the model runs
  auto model = load_model_from_args(args);
  file.set_model(*model, args);

  probes::ProbeInputs in;
  if (info.needs(Input::Prompt) && (args.has("prompt") || args.has("tokens"))) {
    in.tokens = prompt_tokens(*model, args);
    in.prompt = args.get("prompt");
    if (in.prompt.empty() && model->tokenizer() != nullptr)
      in.prompt = model->tokenizer()->decode(in.tokens, true);
  }
  if (info.needs(Input::Corrupt) && (args.has("corrupt") || args.has("corrupt-tokens"))) {
    in.corrupt_tokens = id_list(*model, args, "corrupt", "corrupt-tokens");
    in.corrupt_prompt = args.get("corrupt");
  }
  if (args.has("answer-id")) in.answer_id = args.integer("answer-id", 0);
  in.answer = args.get("answer");
  if (args.has("wrong-id")) in.wrong_id = args.integer("wrong-id", 0);
  in.wrong = args.get("wrong");
  in.image = args.get("image");

  install_interrupt_handler();
  const bool tty = isatty(STDERR_FILENO) != 0;
  int shown = -1;
  const probes::Progress progress = [&](double done) {
    const int percent = static_cast<int>(done * 100);
    if (tty && percent != shown) {
      shown = percent;
      std::fprintf(stderr, "\r%s: %3d%%", name.c_str(), percent);
      std::fflush(stderr);
    }
    return !interrupted();
  };
  Result result;
  try {
    result = probes::run_probe(probe, *model, in, options, progress);
  } catch (const Cancelled&) {
    if (tty) std::fprintf(stderr, "\n");
    throw Error("Interrupted; nothing was written.");
  }
  if (tty && shown >= 0) std::fprintf(stderr, "\r%*s\r", static_cast<int>(name.size()) + 6, "");

  std::string arrays;
  for (const auto& [array_name, array] : result.arrays)
    arrays += (arrays.empty() ? "" : ", ") + array_name + " " + shape_text(array);
  const std::string id = file.add(std::move(result), in.prompt);
  const size_t n = file.session().results.size();
  std::cout << (file.appending() ? "Added " : "Wrote ") << id << ": " << arrays << " to "
            << file.path().string() << " (" << n << " result" << (n == 1 ? "" : "s") << ").\n";
  return 0;
}

int cmd_run(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.front().rfind("-", 0) == 0) {
    const auto names = cli_registry().names();
    std::string list;
    for (const auto& n : names) list += "  " + n + "\n";
    std::cout << "Usage: mechscope-cli run PROBE [OPTIONS] --out SESSION.mscope\n\n"
                 "Runs PROBE and adds its Result to a session. `mechscope-cli run PROBE --help` "
                 "lists the inputs and options PROBE takes.\n\nProbes:\n"
              << list;
    return argv.empty() ? 2 : 0;
  }
  const probes::ProbeRegistry registry = cli_registry();
  return run_probe_command(registry, argv.front(), "run " + argv.front(),
                           std::vector<std::string>(argv.begin() + 1, argv.end()));
}

int cmd_attention(const std::vector<std::string>& argv) {
  return run_probe_command(probes::ProbeRegistry::builtin(), "attention", "attention", argv);
}

int cmd_probes(const std::vector<std::string>& argv) {
  Args args(argv, {{"json", "", "print the list as JSON (inputs, options with types and defaults, "
                                "arrays with axes)"}});
  if (args.help()) {
    std::cout << usage("probes", "Lists every probe: built-in ones and plugins.",
                       {{"json", "", "print JSON"}});
    return 0;
  }
  const probes::ProbeRegistry registry = cli_registry();
  if (args.has("json")) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& p : registry.all()) all.push_back(p->info().to_json());
    std::cout << all.dump(2) << "\n";
    return 0;
  }
  for (const auto& p : registry.all()) {
    const probes::ProbeInfo& info = p->info();
    std::string inputs;
    for (const auto& s : info.inputs)
      inputs += (inputs.empty() ? "" : " ") + std::string(s.required ? "" : "[") +
                probes::input_name(s.input) + (s.required ? "" : "]");
    std::cout << info.name << "  (" << (inputs.empty() ? "no inputs" : inputs) << ")\n    "
              << info.description << "\n";
    for (const auto& o : info.options)
      std::cout << "    --option " << o.name << "=" << (o.default_value.is_string()
                                                        ? o.default_value.get<std::string>()
                                                        : o.default_value.dump())
                << "  (" << probes::type_name(o.type) << ")\n";
  }
  return 0;
}

}  // namespace mechscope::cli
