#pragma once
// The message of the exception `f` throws ("" when it throws none): for checking that errors
// name what is wrong.
#include <exception>
#include <functional>
#include <string>

namespace mechscope::test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace mechscope::test
