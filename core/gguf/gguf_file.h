#pragma once
/// A bounds-checked, lazy reader of GGUF files (llama.cpp's checkpoint format), versions 1–3.
/// v1 stores string lengths and counts as uint32, v2/v3 as uint64. Every length, count, offset and
/// tensor extent is checked against the file size before use; the file is mmapped and tensor data
/// is only touched when a tensor is dequantized. Free of LibTorch (mechscope_gguf library), so the
/// tokenizer and fuzzers can use it cheaply.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/io/mapped_file.h"

namespace mechscope::gguf {

/// Metadata value types, numbered as in the GGUF spec.
enum class ValueType : uint32_t {
  UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
  String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};
/// "uint32", "string", "array", … (for messages and `mechscope-cli info`).
const char* value_type_name(ValueType t);

/// One metadata value. Scalars fill one of `integer` (all integer types and bool), `real`
/// (float32/float64) or `string`; arrays set `element_type` and fill `items` (nested arrays allowed).
struct Value {
  ValueType type = ValueType::UInt8;
  ValueType element_type = ValueType::UInt8;  // arrays only
  int64_t integer = 0;  // uint64 values above INT64_MAX are stored as their bit pattern
  double real = 0;
  std::string string;
  std::vector<Value> items;

  bool is_integer() const;  // any integer type or bool
  bool is_number() const;   // integer or float
  /// The value as a number (integers converted); throws mechscope::Error for strings/arrays.
  double as_number() const;
};

/// Tensor types, numbered as in ggml.h (GGML_TYPE_*). The reader accepts every type ggml can size
/// (block_layout(), the IQ*/TQ*/MXFP4 types included) and refuses other numbers at load; tensors
/// of types dequantize() does not convert are refused there with a message naming tensor and type.
enum class TensorType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
};
/// "F32", "Q4_K", … or "type 123" for numbers this reader does not know.
std::string tensor_type_name(uint32_t type);

struct TensorInfo {
  std::string name;
  /// Dimensions as stored in GGUF: ne[0] is the fastest-varying (row length). The PyTorch/HF shape
  /// is the reverse: `shape()`.
  std::vector<int64_t> dims;
  uint32_t type = 0;
  uint64_t offset = 0;  // relative to the start of the data section
  uint64_t bytes = 0;   // the tensor's extent in the file, from its type's block size
  std::vector<int64_t> shape() const;  // reversed dims (row-major, as torch would hold it)
  int64_t numel() const;
};

class File {
 public:
  /// Maps and validates `path`: magic, version (1–3), every count, string, metadata value,
  /// tensor info, alignment (`general.alignment`, a power of two, default 32), and that each
  /// tensor's extent lies inside the file, is aligned and does not overlap another. Throws
  /// mechscope::Error with one sentence naming the file and the problem.
  explicit File(const std::filesystem::path& path);

  const std::filesystem::path& path() const;
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of tensor data

  /// Metadata in file order, and by key.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }

  /// Typed access; throw mechscope::Error naming the file and key when missing or of the wrong type.
  const Value& require(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  double number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  std::vector<std::string> strings(const std::string& key) const;  // array of string
  std::vector<double> numbers(const std::string& key) const;       // array of numbers
  std::vector<int64_t> integers(const std::string& key) const;     // array of integers

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* tensor(const std::string& name) const;
  /// The raw bytes of a tensor (inside the mapping, which outlives the File via mapping()).
  const uint8_t* tensor_data(const TensorInfo& t) const;
  const std::shared_ptr<MappedFile>& mapping() const { return file_; }

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

/// Elements per block and bytes per block of a tensor type; nullopt for types this reader cannot
/// size. A tensor's row length (dims[0]) must be a multiple of the block size.
struct BlockLayout {
  int64_t elements;
  int64_t bytes;
};
std::optional<BlockLayout> block_layout(uint32_t type);

/// Whether dequantize() converts tensors of `type`.
bool can_dequantize(uint32_t type);

/// Dequantizes `count` elements of type `type` from `src` into `dst` (f32), exactly as ggml's
/// dequantize_row_* and pip gguf's gguf.quants.dequantize do (bit for bit). `count` must be a
/// multiple of the block size. Throws mechscope::Error naming `what` (the tensor) for unsupported
/// types.
void dequantize(uint32_t type, const uint8_t* src, int64_t count, float* dst,
                const std::string& what);

/// Dequantizes a whole tensor of `file` into `dst` (numel floats).
void dequantize_tensor(const File& file, const TensorInfo& t, float* dst);

}  // namespace mechscope::gguf
