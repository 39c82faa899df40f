#pragma once
/// A bounds-checked reader of the safetensors format (8-byte little-endian header length, a JSON
/// header of {name: {dtype, shape, data_offsets}}, then the raw data), read through mmap.
/// Every inconsistency in the header is rejected with a message naming the file and tensor.
#include <ATen/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/mapped_file.h"

namespace mechscope {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", "I64", …
  std::vector<int64_t> shape;  //
  size_t begin = 0;            // byte offsets into the data section
  size_t end = 0;
};

class SafetensorsFile {
 public:
  /// Maps and validates the file; throws mechscope::Error naming the file and the problem.
  explicit SafetensorsFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_->path(); }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  /// The tensor on the CPU, as stored (no copy: it views the mapping, which it keeps alive) when
  /// the stored dtype is `dtype` and the data is aligned; otherwise converted to `dtype` (one copy).
  at::Tensor tensor(const std::string& name, at::ScalarType dtype) const;
  /// The tensor in its stored dtype (integers included).
  at::Tensor tensor(const std::string& name) const;

 private:
  std::shared_ptr<MappedFile> file_;
  size_t data_start_ = 0;
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

/// Writes tensors (any CPU dtype the format knows) to a safetensors file, atomically.
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace mechscope
