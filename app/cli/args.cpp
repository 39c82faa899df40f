#include "app/cli/args.h"

#include <sstream>

#include "core/util/error.h"

namespace mechscope::cli {

Args::Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) throw Error("Unexpected argument '" + a + "'.");
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (spec == nullptr) throw Error("Unknown option --" + name + " (see --help).");
    if (!spec->value_name.empty() && !inline_value) {
      if (i + 1 >= argv.size()) throw Error("Option --" + name + " needs a value.");
      value = argv[++i];
    }
    values_[name] = spec->value_name.empty() ? "1" : value;
    all_[name].push_back(values_[name]);
  }
  if (help_) return;
  for (const auto& s : specs)
    if (s.required && !has(s.name)) throw Error("Missing required option --" + s.name + ".");
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::optional<std::string> Args::optional(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = all_.find(name);
  return it == all_.end() ? std::vector<std::string>{} : it->second;
}

int64_t Args::integer(const std::string& name, int64_t fallback) const {
  auto v = optional(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    int64_t n = std::stoll(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return n;
  } catch (const std::exception&) {
    throw Error("Option --" + name + " needs an integer, got '" + *v + "'.");
  }
}

double Args::number(const std::string& name, double fallback) const {
  auto v = optional(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    double n = std::stod(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return n;
  } catch (const std::exception&) {
    throw Error("Option --" + name + " needs a number, got '" + *v + "'.");
  }
}

std::string usage(const std::string& command, const std::string& summary,
                  const std::vector<OptionSpec>& specs) {
  std::ostringstream o;
  o << "Usage: mechscope-cli " << command;
  for (const auto& s : specs) {
    std::string part = "--" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
    o << " " << (s.required ? part : "[" + part + "]");
  }
  o << "\n\n" << summary << "\n\nOptions:\n";
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
    if (left.size() < 28) left.resize(28, ' ');
    else left += "  ";
    o << left << s.help << "\n";
  }
  o << "  --help                    show this help\n";
  return o.str();
}

}  // namespace mechscope::cli
