#pragma once
// Running the mechscope-cli binary this build made (MECHSCOPE_CLI) as users do.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace mechscope::test {

struct CliOutput {
  int status;
  std::string out;  ///< stdout and stderr together
};

/// Runs mechscope-cli with `args` (shell-quoted by the caller), capturing stdout and stderr.
inline CliOutput cli(const std::string& args) {
  const std::string cmd = std::string(MECHSCOPE_CLI) + " " + args + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe.get())) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe.release());
  return {WEXITSTATUS(status), out};
}

}  // namespace mechscope::test
