#pragma once
// A small command-line parser: `--key value`, `--flag`, with each command declaring its options
// so that unknown options and missing values are errors and `--help` is generated.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mechscope::cli {

struct OptionSpec {
  std::string name;  // without the leading dashes
  std::string value_name;  // empty for flags
  std::string help;
  bool required = false;
};

class Args {
 public:
  /// Parses argv after the command name; throws mechscope::Error with a one-line reason.
  Args(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  std::optional<std::string> optional(const std::string& name) const;
  /// Every value of an option given more than once (`--option a=1 --option b=2`), in order.
  std::vector<std::string> all(const std::string& name) const;
  int64_t integer(const std::string& name, int64_t fallback) const;
  double number(const std::string& name, double fallback) const;
  bool help() const { return help_; }

 private:
  std::map<std::string, std::string> values_;  // the last value of each option
  std::map<std::string, std::vector<std::string>> all_;
  bool help_ = false;
};

/// The help text of a command.
std::string usage(const std::string& command, const std::string& summary,
                  const std::vector<OptionSpec>& specs);

}  // namespace mechscope::cli
