#pragma once
/// Probe options: resolving what the user gave against a probe's declared options, and the
/// JSON-schema form ({"type": "object", "properties": {...}}) that `probes --json` prints and
/// plugins declare.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probes/probe.h"

namespace mechscope::probes {

/// `given` (an object, or null for "all defaults") completed with each option's default. Throws
/// mechscope::Error with a sentence naming the option when `given` holds an option the probe
/// lacks (listing the ones it takes), a value of the wrong type, outside the range or not among
/// the choices (listing them). An integer is accepted where a number is declared.
nlohmann::json resolve_options(const std::vector<OptionSpec>& specs, const nlohmann::json& given);

/// {"type": "object", "properties": {name: {"type", "default", "enum"?, "minimum"?, "maximum"?,
/// "description"}}}.
nlohmann::json options_schema(const std::vector<OptionSpec>& specs);

/// The inverse of options_schema, for plugins' optionsSchema(). A property without a type takes
/// its default's type; one without a default is refused (every option needs one).
std::vector<OptionSpec> options_from_schema(const nlohmann::json& schema);

/// A command-line value ("5", "true", "L2H3,L2H5") as the option's JSON type; throws naming the
/// option when it does not parse, or when the probe has no option `name`.
nlohmann::json parse_option_text(const std::vector<OptionSpec>& specs, const std::string& name,
                                 const std::string& text);

}  // namespace mechscope::probes
