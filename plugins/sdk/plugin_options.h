#pragma once
/// Options for a plugin run, checked against the plugin's optionsSchema() before run() sees them,
/// so plugins can read every option they declared without checking for it.
#include <nlohmann/json.hpp>

namespace mechscope {

/// `given` (an object, or null for "all defaults") completed with each property's "default" from
/// `schema` ({"type": "object", "properties": {...}}). Throws mechscope::Error with a sentence
/// naming the option when `given` holds an option the schema lacks, a value outside a property's
/// "enum", or a value of the wrong "type" ("string", "integer", "number", "boolean").
nlohmann::json resolve_options(const nlohmann::json& schema, const nlohmann::json& given);

}  // namespace mechscope
