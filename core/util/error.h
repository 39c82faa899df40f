#pragma once
/// Errors thrown by the core. Every message is a full sentence that names the file (when there is
/// one) and the problem; background jobs and the CLI catch once at their boundary and report it.
#include <stdexcept>
#include <string>

namespace mechscope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Thrown when a cancellable operation is cancelled by its caller.
class Cancelled : public Error {
 public:
  Cancelled() : Error("Cancelled.") {}
};

}  // namespace mechscope
