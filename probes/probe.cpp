#include "probes/probe.h"

#include "core/util/error.h"
#include "probes/options.h"

namespace mechscope::probes {

const char* input_name(Input input) {
  switch (input) {
    case Input::Prompt: return "prompt";
    case Input::Corrupt: return "corrupt";
    case Input::Answer: return "answer";
    case Input::Wrong: return "wrong";
    case Input::Image: return "image";
  }
  return "";
}

const char* type_name(OptionSpec::Type type) {
  switch (type) {
    case OptionSpec::Type::Integer: return "integer";
    case OptionSpec::Type::Number: return "number";
    case OptionSpec::Type::Boolean: return "boolean";
    case OptionSpec::Type::String: return "string";
  }
  return "";
}

bool ProbeInfo::needs(Input input) const {
  for (const InputSpec& s : inputs)
    if (s.input == input) return true;
  return false;
}

nlohmann::json ProbeInfo::to_json() const {
  nlohmann::json in = nlohmann::json::array();
  for (const InputSpec& s : inputs)
    in.push_back({{"name", input_name(s.input)}, {"required", s.required}, {"help", s.help}});
  nlohmann::json arr = nlohmann::json::array();
  for (const ArraySpec& a : arrays)
    arr.push_back({{"name", a.name}, {"axes", a.axes}, {"help", a.help}});
  return {{"name", name},       {"title", title},
          {"description", description}, {"inputs", in},
          {"options", options_schema(options)}, {"arrays", arr}};
}

bool ProbeInputs::has(Input input) const {
  switch (input) {
    case Input::Prompt: return !tokens.empty();
    case Input::Corrupt: return corrupt_tokens.has_value();
    case Input::Answer: return answer_id.has_value() || !answer.empty();
    case Input::Wrong: return wrong_id.has_value() || !wrong.empty();
    case Input::Image: return !image.empty() || !image_rgb.empty();
  }
  return false;
}

nlohmann::json ProbeInputs::to_json() const {
  nlohmann::json j = {{"prompt", prompt}, {"tokens", tokens}};
  if (corrupt_tokens) {
    j["corrupt_prompt"] = corrupt_prompt;
    j["corrupt_tokens"] = *corrupt_tokens;
  }
  if (!answer.empty()) j["answer"] = answer;
  if (answer_id) j["answer_id"] = *answer_id;
  if (!wrong.empty()) j["wrong"] = wrong;
  if (wrong_id) j["wrong_id"] = *wrong_id;
  if (!image.empty()) j["image"] = image;
  if (!image_rgb.empty()) j["image_size"] = {image_rgb.height, image_rgb.width};
  return j;
}

namespace {
const nlohmann::json& lookup(const nlohmann::json& values, const std::string& name) {
  if (!values.is_object() || !values.contains(name))
    throw Error("The probe asked for option '" + name + "', which it did not declare.");
  return values.at(name);
}
}  // namespace

int64_t Options::integer(const std::string& name) const {
  return lookup(values_, name).get<int64_t>();
}
double Options::number(const std::string& name) const {
  return lookup(values_, name).get<double>();
}
bool Options::boolean(const std::string& name) const { return lookup(values_, name).get<bool>(); }
std::string Options::string(const std::string& name) const {
  return lookup(values_, name).get<std::string>();
}

void report(const Progress& progress, double fraction) {
  if (progress && !progress(fraction)) throw Cancelled();
}

}  // namespace mechscope::probes
