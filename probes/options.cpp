#include "probes/options.h"

#include <cmath>
#include <sstream>

#include "core/util/error.h"

namespace mechscope::probes {

using nlohmann::json;
using Type = OptionSpec::Type;

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string number_text(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

const OptionSpec* find(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const OptionSpec& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

[[noreturn]] void unknown(const std::vector<OptionSpec>& specs, const std::string& name) {
  std::vector<std::string> names;
  for (const OptionSpec& s : specs) names.push_back(s.name);
  throw Error("Unknown option '" + name + "'; this probe takes: " +
              (names.empty() ? std::string("no options") : join(names)) + ".");
}

/// `value` converted to the spec's type and checked; throws naming the option.
json checked(const OptionSpec& spec, const json& value) {
  const std::string what = "Option '" + spec.name + "'";
  json v = value;
  switch (spec.type) {
    case Type::Integer:
      if (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>())
        v = static_cast<int64_t>(value.get<double>());
      if (!v.is_number_integer())
        throw Error(what + " must be of type integer, not " + value.dump() + ".");
      break;
    case Type::Number:
      if (!v.is_number()) throw Error(what + " must be of type number, not " + value.dump() + ".");
      break;
    case Type::Boolean:
      if (!v.is_boolean()) throw Error(what + " must be of type boolean, not " + value.dump() + ".");
      break;
    case Type::String:
      if (!v.is_string()) throw Error(what + " must be of type string, not " + value.dump() + ".");
      if (!spec.choices.empty()) {
        for (const std::string& c : spec.choices)
          if (c == v.get<std::string>()) return v;
        throw Error(what + " is " + value.dump() + "; allowed values are " + join(spec.choices) +
                    ".");
      }
      break;
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if ((spec.min && x < *spec.min) || (spec.max && x > *spec.max))
      throw Error(what + " is " + value.dump() + "; it must be in [" +
                  (spec.min ? number_text(*spec.min) : "-inf") + ", " +
                  (spec.max ? number_text(*spec.max) : "inf") + "].");
  }
  return v;
}

}  // namespace

json resolve_options(const std::vector<OptionSpec>& specs, const json& given) {
  if (!given.is_null() && !given.is_object())
    throw Error("Probe options must be a JSON object, not " + given.dump() + ".");
  json resolved = json::object();
  if (given.is_object()) {
    for (const auto& [key, value] : given.items()) {
      const OptionSpec* spec = find(specs, key);
      if (!spec) unknown(specs, key);
      resolved[key] = checked(*spec, value);
    }
  }
  for (const OptionSpec& s : specs)
    if (!resolved.contains(s.name)) resolved[s.name] = s.default_value;
  return resolved;
}

json options_schema(const std::vector<OptionSpec>& specs) {
  json properties = json::object();
  for (const OptionSpec& s : specs) {
    json p = {{"type", type_name(s.type)}, {"default", s.default_value}, {"description", s.help}};
    if (!s.choices.empty()) p["enum"] = s.choices;
    if (!s.path.empty()) p["format"] = s.path;
    if (s.min) p["minimum"] = *s.min;
    if (s.max) p["maximum"] = *s.max;
    properties[s.name] = p;
  }
  return {{"type", "object"}, {"properties", properties}};
}

std::vector<OptionSpec> options_from_schema(const json& schema) {
  std::vector<OptionSpec> specs;
  if (!schema.is_object() || !schema.contains("properties")) return specs;
  const json& properties = schema.at("properties");
  if (!properties.is_object()) throw Error("An options schema's \"properties\" must be an object.");
  for (const auto& [name, p] : properties.items()) {
    if (!p.is_object() || !p.contains("default"))
      throw Error("Option '" + name + "' of the schema has no default.");
    OptionSpec s;
    s.name = name;
    s.default_value = p.at("default");
    std::string type = p.value("type", "");
    if (type.empty())
      type = s.default_value.is_boolean()        ? "boolean"
             : s.default_value.is_number_integer() ? "integer"
             : s.default_value.is_number()       ? "number"
                                                 : "string";
    if (type == "integer") s.type = Type::Integer;
    else if (type == "number") s.type = Type::Number;
    else if (type == "boolean") s.type = Type::Boolean;
    else if (type == "string") s.type = Type::String;
    else throw Error("Option '" + name + "' has type '" + type + "', which probes do not take.");
    if (p.contains("enum") && p.at("enum").is_array())
      for (const json& c : p.at("enum"))
        if (c.is_string()) s.choices.push_back(c.get<std::string>());
    if (p.contains("minimum") && p.at("minimum").is_number()) s.min = p.at("minimum").get<double>();
    if (p.contains("maximum") && p.at("maximum").is_number()) s.max = p.at("maximum").get<double>();
    s.help = p.value("description", "");
    if (p.contains("format") && p.at("format").is_string()) {
      const std::string f = p.at("format").get<std::string>();
      if (f == "folder" || f == "file") s.path = f;
    }
    specs.push_back(std::move(s));
  }
  return specs;
}

json parse_option_text(const std::vector<OptionSpec>& specs, const std::string& name,
                       const std::string& text) {
  const OptionSpec* spec = find(specs, name);
  if (!spec) unknown(specs, name);
  const std::string what = "Option '" + name + "' needs ";
  try {
    size_t used = 0;
    switch (spec->type) {
      case Type::Integer: {
        const int64_t v = std::stoll(text, &used);
        if (used != text.size()) break;
        return checked(*spec, v);
      }
      case Type::Number: {
        const double v = std::stod(text, &used);
        if (used != text.size()) break;
        return checked(*spec, v);
      }
      case Type::Boolean:
        if (text == "true" || text == "1" || text == "yes" || text == "on")
          return true;
        if (text == "false" || text == "0" || text == "no" || text == "off") return false;
        throw Error(what + "true or false, got '" + text + "'.");
      case Type::String:
        return checked(*spec, text);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception&) {
  }
  throw Error(what + "an " + type_name(spec->type) + " value, got '" + text + "'.");
}

}  // namespace mechscope::probes
