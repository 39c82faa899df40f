#include "core/io/safetensors.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/util/error.h"

namespace mechscope {
namespace {

struct DTypeInfo {
  const char* name;
  at::ScalarType type;
  size_t bytes;
};

constexpr DTypeInfo kDTypes[] = {
    {"F64", at::kDouble, 8}, {"F32", at::kFloat, 4},  {"F16", at::kHalf, 2},
    {"BF16", at::kBFloat16, 2}, {"I64", at::kLong, 8}, {"I32", at::kInt, 4},
    {"I16", at::kShort, 2},  {"I8", at::kChar, 1},    {"U8", at::kByte, 1},
    {"BOOL", at::kBool, 1},
};

const DTypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DTypeInfo* find_dtype(at::ScalarType type) {
  for (const auto& d : kDTypes)
    if (type == d.type) return &d;
  return nullptr;
}

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

}  // namespace

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : file_(MappedFile::open(path)) {
  const std::string where = path.string();
  if (file_->size() < 8) {
    throw Error("Invalid safetensors file " + where + ": it is " + std::to_string(file_->size()) +
                " bytes long, shorter than the 8-byte header length.");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file_->data()[i];
  if (header_len > kMaxHeaderBytes || header_len > file_->size() - 8) {
    throw Error("Invalid safetensors file " + where + ": the header length " +
                std::to_string(header_len) + " runs past the end of the file (" +
                std::to_string(file_->size()) + " bytes); the file is truncated or not safetensors.");
  }
  data_start_ = 8 + header_len;
  const size_t data_size = file_->size() - data_start_;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file_->data() + 8, file_->data() + 8 + header_len);
  } catch (const std::exception& e) {
    throw Error("Invalid safetensors file " + where + ": the header is not valid JSON (" +
                e.what() + ").");
  }
  if (!header.is_object()) {
    throw Error("Invalid safetensors file " + where + ": the header is not a JSON object.");
  }
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (v.is_object())
        for (auto m = v.begin(); m != v.end(); ++m)
          if (m.value().is_string()) metadata_[m.key()] = m.value().get<std::string>();
      continue;
    }
    const std::string prefix = "Invalid safetensors file " + where + ": tensor '" + name + "' ";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets")) {
      throw Error(prefix + "lacks dtype, shape or data_offsets.");
    }
    SafetensorsEntry e;
    e.name = name;
    if (!v["dtype"].is_string()) throw Error(prefix + "has a dtype that is not a string.");
    e.dtype = v["dtype"].get<std::string>();
    const DTypeInfo* dt = find_dtype(e.dtype);
    if (dt == nullptr) throw Error(prefix + "has unknown dtype '" + e.dtype + "'.");
    if (!v["shape"].is_array()) throw Error(prefix + "has a shape that is not a list.");
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_unsigned()) throw Error(prefix + "has a negative or non-integer dimension.");
      uint64_t n = d.get<uint64_t>();
      if (n != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / n)
        throw Error(prefix + "has an absurd shape (its size overflows).");
      numel *= n;
      e.shape.push_back(static_cast<int64_t>(n));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned()) {
      throw Error(prefix + "has data_offsets that are not two non-negative integers.");
    }
    uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
    if (b > en || en > data_size) {
      throw Error(prefix + "has data offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                  ") outside the data section (" + std::to_string(data_size) +
                  " bytes); the file is truncated or corrupt.");
    }
    if (en - b != numel * dt->bytes) {
      throw Error(prefix + "has shape × dtype = " + std::to_string(numel * dt->bytes) +
                  " bytes but its data offsets span " + std::to_string(en - b) + " bytes.");
    }
    e.begin = b;
    e.end = en;
    entries_.emplace(name, std::move(e));
  }
  // Tensors must not overlap.
  std::vector<const SafetensorsEntry*> sorted;
  for (const auto& kv : entries_) sorted.push_back(&kv.second);
  std::sort(sorted.begin(), sorted.end(),
            [](auto* a, auto* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->begin < sorted[i - 1]->end && sorted[i]->begin != sorted[i]->end) {
      throw Error("Invalid safetensors file " + where + ": tensors '" + sorted[i - 1]->name +
                  "' and '" + sorted[i]->name + "' overlap in the data section.");
    }
  }
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw Error("Tensor '" + name + "' not found in " + file_->path().string() + ".");
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& kv : entries_) out.push_back(kv.first);
  return out;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& e = entry(name);
  const DTypeInfo* dt = find_dtype(e.dtype);
  uint8_t* ptr = file_->data() + data_start_ + e.begin;
  auto keep_alive = file_;
  auto options = at::TensorOptions().dtype(dt->type);
  if (reinterpret_cast<uintptr_t>(ptr) % dt->bytes == 0) {
    return at::from_blob(ptr, e.shape, [keep_alive](void*) {}, options);
  }
  // Unaligned data: copy it into an aligned buffer.
  at::Tensor out = at::empty(e.shape, options);
  std::memcpy(out.data_ptr(), ptr, e.end - e.begin);
  return out;
}

at::Tensor SafetensorsFile::tensor(const std::string& name, at::ScalarType dtype) const {
  at::Tensor t = tensor(name);
  return t.scalar_type() == dtype ? t : t.to(dtype);
}

void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> blobs;
  size_t offset = 0;
  for (const auto& [name, t0] : tensors) {
    at::Tensor t = t0.detach().to(at::kCPU).contiguous();
    const DTypeInfo* dt = find_dtype(t.scalar_type());
    if (dt == nullptr) throw Error("Cannot write tensor '" + name + "' to " + path.string() +
                                   ": its dtype has no safetensors equivalent.");
    size_t bytes = t.numel() * dt->bytes;
    header[name] = {{"dtype", dt->name}, {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    blobs.push_back(t);
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("Cannot write " + tmp.string() + ".");
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
    out.write(h.data(), h.size());
    for (const auto& t : blobs)
      out.write(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
    out.flush();
    if (!out) throw Error("Writing " + tmp.string() + " failed (disk full?).");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace mechscope
