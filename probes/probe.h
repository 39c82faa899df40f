#pragma once
/// The one interface every probe implements, built-in or plugin: what it needs (inputs), what it
/// can be told (an options schema), what it produces (named arrays with axes) and `run`, which
/// returns a plain-data Result that views draw, sessions store and exports render. Qt-free.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/image/image_file.h"
#include "core/session/result.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

/// The inputs a probe may ask for.
enum class Input { Prompt, Corrupt, Answer, Wrong, Image };

/// "prompt", "corrupt", "answer", "wrong", "image" (the CLI's and the JSON listing's names).
const char* input_name(Input input);

struct InputSpec {
  Input input;
  bool required = true;
  std::string help;  ///< What the probe uses it for.
};

/// One option of a probe: its type, default, range or choices and a help line.
struct OptionSpec {
  enum class Type { Integer, Number, Boolean, String };
  std::string name;
  Type type = Type::String;
  nlohmann::json default_value;         ///< Of `type`.
  std::vector<std::string> choices;     ///< Strings only: the allowed values (empty: any).
  std::optional<double> min, max;       ///< Numbers only: the allowed range (inclusive).
  std::string help;
  /// Strings only: "folder" or "file" when the value names one (schema "format"; the workbench's
  /// options dialog offers Browse…); empty otherwise.
  std::string path = {};
};

const char* type_name(OptionSpec::Type type);  // "integer", "number", "boolean", "string"

/// One array a probe writes into its Result, e.g. {"effect", {"layer", "position"}, "…"}. Arrays
/// whose axes depend on options list the most common case and say so in `help`.
struct ArraySpec {
  std::string name;
  std::vector<std::string> axes;
  std::string help;
};

/// Everything known about a probe before running it.
struct ProbeInfo {
  std::string name;         ///< Unique; becomes Result::probe ("activation_patching").
  std::string title;        ///< For menus ("Activation patching").
  std::string description;  ///< One or two sentences.
  std::vector<InputSpec> inputs;
  std::vector<OptionSpec> options;
  std::vector<ArraySpec> arrays;
  nlohmann::json to_json() const;  ///< The `mechscope-cli probes --json` entry.
  bool needs(Input input) const;   ///< Declared (required or optional).
};

/// What the user gave: the prompt, and whatever else the probe declared. Token ids are what the
/// probe runs on; texts are for titles and metadata. run_probe() fills answer_id / wrong_id from
/// the answer texts through the model's tokenizer.
struct ProbeInputs {
  std::string prompt;
  std::vector<int64_t> tokens;
  std::string corrupt_prompt;
  std::optional<std::vector<int64_t>> corrupt_tokens;
  std::string answer;
  std::optional<int64_t> answer_id;
  std::string wrong;
  std::optional<int64_t> wrong_id;
  std::string image;  ///< An image file (vision-language models), or a name for image_rgb.
  /// The decoded image; run_probe() reads `image` into it when it is empty, and makes the
  /// prompt's tokens hold the image's positions (see prepare_image_tokens).
  RgbImage image_rgb;

  bool has(Input input) const;
  /// {"prompt", "tokens", "corrupt_prompt", "corrupt_tokens", "answer", "answer_id", …}: the
  /// inputs that are set, for Result::meta["inputs"].
  nlohmann::json to_json() const;
};

/// Options after resolution: every declared option present, of its type, inside its range.
class Options {
 public:
  Options() = default;
  explicit Options(nlohmann::json values) : values_(std::move(values)) {}
  const nlohmann::json& json() const { return values_; }
  int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string string(const std::string& name) const;

 private:
  nlohmann::json values_ = nlohmann::json::object();
};

/// Called with the fraction done in [0, 1]; returning false asks the probe to stop (it then throws
/// mechscope::Cancelled). May be empty.
using Progress = std::function<bool(double)>;

/// Reports `fraction` and throws mechscope::Cancelled when the caller asked to stop.
void report(const Progress& progress, double fraction);

class Probe {
 public:
  virtual ~Probe() = default;
  virtual const ProbeInfo& info() const = 0;
  /// Runs the probe. `inputs` hold every required input (checked by run_probe), `options` every
  /// declared option. Throws mechscope::Error with a full sentence on bad input, Cancelled when
  /// `progress` asked to stop. The Result's arrays are set; run_probe stamps the rest.
  virtual Result run(const Model& model, const ProbeInputs& inputs, const Options& options,
                     const Progress& progress) const = 0;

  const std::string& name() const { return info().name; }
};

}  // namespace mechscope::probes

namespace mechscope::probes {

/// A probe made of its info and a run function: what most built-in probes are.
class FunctionProbe : public Probe {
 public:
  using RunFn = std::function<Result(const Model&, const ProbeInputs&, const Options&,
                                     const Progress&)>;
  FunctionProbe(ProbeInfo info, RunFn run) : info_(std::move(info)), run_(std::move(run)) {}
  const ProbeInfo& info() const override { return info_; }
  Result run(const Model& model, const ProbeInputs& inputs, const Options& options,
             const Progress& progress) const override {
    return run_(model, inputs, options, progress);
  }

 private:
  ProbeInfo info_;
  RunFn run_;
};

}  // namespace mechscope::probes
