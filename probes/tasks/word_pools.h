#pragma once
/// Word pools shared by several tasks. Every entry is a single word.
#include <string>
#include <vector>

namespace mechscope::tasks::pools {

/// Single-word first names (the IOI dataset's kind of names).
const std::vector<std::string>& first_names();

/// Colour words.
const std::vector<std::string>& colors();

/// The dedicated nonsense tokens tok_000 .. tok_199 of the induction task.
const std::vector<std::string>& nonsense_tokens();

/// Ordinal words first .. fifth.
const std::vector<std::string>& ordinals();

}  // namespace mechscope::tasks::pools
