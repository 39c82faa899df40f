#pragma once
/// SHA-256 (FIPS 180-4), small and dependency-free, for fingerprinting model files.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mechscope {

/// Incremental SHA-256: update() any number of times, then hex_digest() once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  /// The 32-byte digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> digest();
  /// The digest as 64 lowercase hex digits.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

/// SHA-256 of `data` in lowercase hex.
std::string sha256_hex(std::string_view data);

}  // namespace mechscope
