#include "app/cli/cli_session.h"

#include "probes/result_meta.h"

namespace mechscope::cli {

ProbeSessionFile::ProbeSessionFile(const Args& args)
    : out_(args.get("out")), append_(args.has("append") && std::filesystem::exists(out_)) {
  if (append_) session_ = load_session(out_);
}

void ProbeSessionFile::set_model(const Model& model, const Args& args) {
  if (append_) return;
  session_.model = probes::model_identity(model);
  if (auto tokenizer = args.optional("tokenizer"))
    session_.model["tokenizer"] = std::filesystem::absolute(*tokenizer).lexically_normal().string();
  session_.views = {{"workbench", nlohmann::json::object()},
                    {"results", nlohmann::json::object()}};
}

std::string ProbeSessionFile::add(Result result, const std::string& prompt) {
  result.id = session_.next_id(result.probe);
  bool known_prompt = prompt.empty();
  for (const SessionPrompt& p : session_.prompts) known_prompt |= p.text == prompt;
  if (!known_prompt) session_.prompts.push_back({prompt, "", ""});
  const std::string id = result.id;
  session_.results.push_back(std::move(result));
  save_session(session_, out_);
  return id;
}

}  // namespace mechscope::cli
