#pragma once
// Where tests find their data: committed goldens in the repo, third-party fixtures in ../shared.
#include <unistd.h>

#include <filesystem>
#include <string>

namespace mechscope::test {

inline std::filesystem::path source_dir() { return MECHSCOPE_SOURCE_DIR; }
inline std::filesystem::path golden_dir() { return source_dir() / "tests" / "golden"; }
inline std::filesystem::path fixtures_dir() { return MECHSCOPE_FIXTURES_DIR; }
/// True when the shared fixtures are present; tests that need them SKIP-with-message otherwise.
inline bool have_fixtures() { return std::filesystem::exists(fixtures_dir() / "README.md"); }
/// A scratch path in the temp folder, unique to this test process (CTest runs tests in parallel,
/// each test case in its own process).
inline std::filesystem::path scratch_path(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("mechscope_" + name + "_" + std::to_string(::getpid()));
}

}  // namespace mechscope::test
