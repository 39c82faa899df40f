#pragma once
/// Writing activation caches to HDF5, readable with h5py:
///   /tokens          int64 [batch, pos]
///   /attention_mask  int64 [batch, pos]
///   /logits          float32 [batch, pos, d_vocab]
///   /cache/<hook>    float32, the hook's shape with the batch dimension kept
/// and root attributes `model` (path), `config` (JSON), `mechscope_version`.
#include <ATen/Tensor.h>

#include <filesystem>
#include <map>
#include <string>

namespace mechscope {

struct CacheFile {
  at::Tensor tokens;
  at::Tensor attention_mask;
  at::Tensor logits;
  std::map<std::string, at::Tensor> activations;
  std::map<std::string, std::string> attributes;
};

/// Writes atomically (temporary file, then rename); throws mechscope::Error naming the file.
void write_cache_h5(const std::filesystem::path& path, const CacheFile& data);

}  // namespace mechscope
