#pragma once
/// Result: what a probe produces and what views draw, sessions store and exports render.
/// Plain data — no LibTorch, no Qt — so every layer of the program can hold one.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mechscope {

/// One axis of an array: a name ("layer", "head", "query", "key") and optional per-index labels
/// (token strings, "L0H3", ...). When `labels` is non-empty it has exactly as many entries as the
/// axis is long.
struct Axis {
  std::string name;
  std::vector<std::string> labels;
};

/// A dense row-major float array with labelled axes.
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;  // product(shape) values, row-major
  std::vector<Axis> axes;   // one per dimension

  int64_t numel() const;
  /// The value at a full index (one entry per dimension); no bounds checks beyond debug asserts.
  float at(std::initializer_list<int64_t> index) const;
  /// Throws mechscope::Error (naming `what`) when shape, data and axes disagree.
  void validate(const std::string& what) const;
};

/// The output of one probe run.
struct Result {
  std::string id;     ///< Unique within a session ("attention-1").
  std::string probe;  ///< Which probe made it ("attention", "head_scores", a plugin's name, ...).
  std::string title;  ///< For people: "Attention — When Mary and John…".
  std::map<std::string, Array> arrays;  ///< Named arrays ("pattern" [layer, head, query, key]).
  /// Metadata: {"probe", "options", "model": {"name","path","family","hash"}, "inputs":
  /// {"prompt", "tokens", ...}, "mechscope_version", "created" (ISO 8601 UTC)}.
  nlohmann::json meta = nlohmann::json::object();

  /// The array called `name`; throws mechscope::Error naming the result when absent.
  const Array& array(const std::string& name) const;
  /// Throws mechscope::Error when any array is inconsistent or the id is empty.
  void validate() const;
};

/// Current time as ISO 8601 UTC ("2026-11-27T08:15:17Z"), for Result::meta["created"].
std::string iso_time_now();

}  // namespace mechscope
