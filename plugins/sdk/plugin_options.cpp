#include "plugins/sdk/plugin_options.h"

#include <string>

#include "core/util/error.h"

namespace mechscope {

namespace {

using nlohmann::json;

/// Whether `value` is of the JSON-schema `type` (unknown types accept anything).
bool has_type(const json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "array") return value.is_array();
  if (type == "object") return value.is_object();
  return true;
}

void check_value(const std::string& key, const json& property, const json& value) {
  if (property.contains("type") && property["type"].is_string() &&
      !has_type(value, property["type"].get<std::string>()))
    throw Error("Option '" + key + "' must be of type " + property["type"].get<std::string>() +
                ", not " + value.dump() + ".");
  if (property.contains("enum") && property["enum"].is_array()) {
    for (const json& allowed : property["enum"])
      if (allowed == value) return;
    throw Error("Option '" + key + "' is " + value.dump() + "; allowed values are " +
                property["enum"].dump() + ".");
  }
}

}  // namespace

json resolve_options(const json& schema, const json& given) {
  if (!given.is_null() && !given.is_object())
    throw Error("Plugin options must be a JSON object, not " + given.dump() + ".");
  const json properties =
      schema.is_object() && schema.contains("properties") && schema["properties"].is_object()
          ? schema["properties"]
          : json::object();
  json resolved = json::object();
  if (given.is_object()) {
    for (const auto& [key, value] : given.items()) {
      if (!properties.contains(key)) {
        std::string known;
        for (const auto& [name, _] : properties.items())
          known += (known.empty() ? "" : ", ") + name;
        throw Error("Unknown option '" + key + "'; this plugin takes: " +
                    (known.empty() ? std::string("no options") : known) + ".");
      }
      check_value(key, properties[key], value);
      resolved[key] = value;
    }
  }
  for (const auto& [key, property] : properties.items())
    if (!resolved.contains(key) && property.is_object() && property.contains("default"))
      resolved[key] = property["default"];
  return resolved;
}

}  // namespace mechscope
