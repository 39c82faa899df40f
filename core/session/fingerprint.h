#pragma once
/// Fingerprints that recognise a model again (Result meta `model.hash`) without reading all of a
/// multi-gigabyte checkpoint.
#include <cstdint>
#include <filesystem>
#include <string>

namespace mechscope {

/// Files up to this size are hashed whole; larger ones are sampled (see file_fingerprint).
constexpr uint64_t kFingerprintWholeFileLimit = uint64_t(64) << 20;
constexpr uint64_t kFingerprintSampleBytes = uint64_t(16) << 20;

/// SHA-256 in lowercase hex.
/// - A file: over its size (8 bytes, little-endian) followed by its whole content when it is at
///   most 64 MiB, else by its first 16 MiB and its last 16 MiB.
/// - A folder (a Hugging Face model): over the text made of one line "<name>\t<size>\n" per regular
///   file directly in it (hidden files skipped; sorted by name), then one line
///   "<name>\t<file fingerprint>\n" for config.json and each *.safetensors file among them.
/// Throws mechscope::Error naming the path when it is missing or unreadable.
std::string file_fingerprint(const std::filesystem::path& path);

/// file_fingerprint, remembered for the process while the files' names, sizes and modification
/// times stay the same (every probe run stamps its Result with the model's fingerprint).
std::string cached_file_fingerprint(const std::filesystem::path& path);

}  // namespace mechscope
