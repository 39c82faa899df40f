#include "core/adapters/adapter.h"
#include "core/util/error.h"

namespace mechscope {

int64_t ConfigFields::integer(const char* key) const {
  if (!has(key)) throw Error("The model configuration " + source_ + " lacks the field '" + key + "'.");
  if (!j_[key].is_number_integer())
    throw Error("The field '" + std::string(key) + "' in " + source_ + " is not an integer.");
  return j_[key].get<int64_t>();
}

int64_t ConfigFields::integer(const char* key, int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

double ConfigFields::number(const char* key, double fallback) const {
  if (!has(key)) return fallback;
  if (!j_[key].is_number())
    throw Error("The field '" + std::string(key) + "' in " + source_ + " is not a number.");
  return j_[key].get<double>();
}

bool ConfigFields::boolean(const char* key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!j_[key].is_boolean())
    throw Error("The field '" + std::string(key) + "' in " + source_ + " is not true/false.");
  return j_[key].get<bool>();
}

std::string ConfigFields::string(const char* key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  if (!j_[key].is_string())
    throw Error("The field '" + std::string(key) + "' in " + source_ + " is not a string.");
  return j_[key].get<std::string>();
}

void read_rope(const ConfigFields& f, ModelConfig& cfg, const char* theta_key) {
  nlohmann::json scaling;
  if (f.has("rope_parameters") && f.json()["rope_parameters"].is_object()) {
    scaling = f.json()["rope_parameters"];
    if (scaling.contains("rope_theta") && scaling["rope_theta"].is_number())
      cfg.rotary_base = scaling["rope_theta"].get<double>();
  }
  if (f.has(theta_key)) cfg.rotary_base = f.number(theta_key, cfg.rotary_base);
  if (f.has("rope_scaling") && f.json()["rope_scaling"].is_object()) scaling = f.json()["rope_scaling"];
  if (!scaling.is_object()) return;
  ConfigFields s(scaling, f.source() + " (rope scaling)");
  std::string type = s.string("rope_type", s.string("type", "default"));
  if (type == "default") return;
  RopeScaling& r = cfg.rope_scaling;
  r.type = type;
  r.factor = s.number("factor", 1.0);
  if (type == "llama3") {
    r.low_freq_factor = s.number("low_freq_factor", 1.0);
    r.high_freq_factor = s.number("high_freq_factor", 4.0);
    r.original_max_position = s.integer("original_max_position_embeddings", 8192);
  } else if (type != "linear") {
    throw Error("Unsupported rope scaling type '" + type + "' in " + f.source() +
                " (supported: default, linear, llama3).");
  }
}

void read_special_ids(const ConfigFields& f, ModelConfig& cfg) {
  auto first_int = [](const nlohmann::json& v) -> std::optional<int64_t> {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int64_t>();
    return std::nullopt;
  };
  if (f.has("bos_token_id")) cfg.bos_token_id = first_int(f.json()["bos_token_id"]);
  if (f.has("eos_token_id")) cfg.eos_token_id = first_int(f.json()["eos_token_id"]);
}

}  // namespace mechscope
