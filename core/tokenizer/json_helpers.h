#pragma once
/// Small helpers for reading optional fields of tokenizer.json, with errors that name the file.
#include <nlohmann/json.hpp>
#include <string>

#include "core/tokenizer/pattern.h"
#include "core/util/error.h"

namespace mechscope::json_helpers {

inline std::string get_string(const nlohmann::json& j, const char* key,
                              const std::string& fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : fallback;
}

inline bool get_bool(const nlohmann::json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}

inline int64_t get_int(const nlohmann::json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_number_integer()) ? it->get<int64_t>() : fallback;
}

/// The "type" of a component object, or an error naming the section.
inline std::string get_type(const nlohmann::json& j, const char* section,
                            const std::string& where) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    throw Error("The tokenizer file " + where + " has a " + section +
                " entry without a \"type\" string.");
  }
  return j["type"].get<std::string>();
}

/// A {"String": "..."} or {"Regex": "..."} pattern object.
inline Pattern get_pattern(const nlohmann::json& j, const std::string& where) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    return Pattern::literal(j["String"].get<std::string>());
  }
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) {
    return Pattern::regex(j["Regex"].get<std::string>(), where);
  }
  if (j.is_string()) return Pattern::literal(j.get<std::string>());
  throw Error("The tokenizer file " + where +
              " has a pattern that is neither {\"String\": ...} nor "
              "{\"Regex\": ...}: " +
              j.dump() + ".");
}

/// Throws the standard "unsupported component" error.
[[noreturn]] inline void unsupported(const char* section, const std::string& type,
                                     const std::string& where) {
  throw Error("The tokenizer file " + where + " uses the " + section + " type '" + type +
              "', which mechscope does not support.");
}

}  // namespace mechscope::json_helpers
