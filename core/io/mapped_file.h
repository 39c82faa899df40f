#pragma once
/// A read-only view of a whole file through mmap. Pages are read lazily by the OS; copies made
/// from it are the only copies. Mapped copy-on-write, so a tensor viewing it may be edited in memory
/// without touching the file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace mechscope {

class MappedFile {
 public:
  /// Maps `path`; throws mechscope::Error naming the file when it is missing or unreadable.
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

/// Reads a whole (small) file into a string; throws mechscope::Error naming the file.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace mechscope
