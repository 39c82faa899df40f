#pragma once
// What the fuzz harnesses share: the input written to a scratch file (the parsers read files),
// and the rule that a parser may throw mechscope::Error (a clear refusal) but must not crash,
// hang, leak or read out of bounds — which the sanitizers and the fuzzer check.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace mechscope::fuzz {

/// A per-process scratch file holding `data`, with `name` as its file name (extensions matter to
/// some loaders).
inline std::filesystem::path write_input(const uint8_t* data, size_t size, const std::string& name) {
  static const std::filesystem::path dir = [] {
    static std::filesystem::path d =
        std::filesystem::temp_directory_path() / ("mechscope-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    });
    return d;
  }();
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

}  // namespace mechscope::fuzz
