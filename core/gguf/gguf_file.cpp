// The GGUF reader: a bounds-checked cursor over the mapped file parses the header, the metadata
// (every value type, arrays nested up to a fixed depth) and the tensor infos; then the tensor
// extents are checked against the data section (inside the file, aligned, not overlapping).
// Nothing is allocated for a count before the count is known to fit in the bytes that remain.
#include "core/gguf/gguf_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/util/error.h"

namespace mechscope::gguf {

namespace {

constexpr uint32_t kMagic = 0x46554747;     // "GGUF" read as a little-endian uint32
constexpr uint64_t kDefaultAlignment = 32;  // GGUF_DEFAULT_ALIGNMENT
constexpr uint32_t kMaxDims = 4;            // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;           // arrays of arrays of … at most this deep
/// All metadata values together (array items included); far above any real tokenizer (a 262k
/// vocabulary with scores, types and merges holds ~1M), far below what would exhaust memory.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 24;

/// Names a field for error messages: a prefix, an optional subject (a key or tensor name) and a
/// suffix, or a ready-made text. Joined only when a read fails, so the hot path (one per array
/// item of a vocabulary) allocates nothing.
class What {
 public:
  What(const char* prefix, const std::string* subject = nullptr, const char* suffix = "")
      : prefix_(prefix), subject_(subject), suffix_(suffix) {}
  What(std::string text) : text_(std::move(text)) {}  // NOLINT: implicit on purpose

  What with_suffix(const char* suffix) const {
    What w = *this;
    w.suffix_ = suffix;
    return w;
  }
  std::string str() const { return text_ + prefix_ + (subject_ ? *subject_ : "") + suffix_; }

 private:
  std::string text_;
  const char* prefix_ = "";
  const std::string* subject_ = nullptr;
  const char* suffix_ = "";
};

/// Reads little-endian fields from the mapped bytes; every read is checked against the end first.
/// Errors name the file and the byte offset of the field that does not fit.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, const std::string& file)
      : data_(data), size_(size), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  uint32_t version() const { return version_; }
  void set_version(uint32_t v) { version_ = v; }

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("Cannot read GGUF file " + file_ + ": " + problem + ".");
  }

  /// Fails unless `n` more bytes remain; `what` names the field for the message.
  void need(uint64_t n, const What& what) const {
    if (n > remaining()) {
      fail(what.str() + " at byte " + std::to_string(pos_) + " needs " + std::to_string(n) +
           " bytes but only " + std::to_string(remaining()) +
           " remain (the file is truncated or corrupt)");
    }
  }

  /// An unsigned little-endian integer of `bytes` bytes.
  uint64_t unsigned_le(unsigned bytes, const What& what) {
    need(bytes, what);
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) v |= uint64_t{data_[pos_ + i]} << (8 * i);
    pos_ += bytes;
    return v;
  }
  uint32_t u32(const What& what) { return uint32_t(unsigned_le(4, what)); }
  uint64_t u64(const What& what) { return unsigned_le(8, what); }

  /// A length or count: uint32 in GGUF v1, uint64 from v2 on.
  uint64_t count(const What& what) { return version_ == 1 ? u32(what) : u64(what); }
  unsigned count_bytes() const { return version_ == 1 ? 4 : 8; }

  /// A length-prefixed byte string (not required to be UTF-8).
  std::string string(const What& what) {
    const uint64_t n = count(what.with_suffix(" length"));
    need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += n;
    return s;
  }

  /// Fails unless `n` items of at least `min_bytes` each can fit in the bytes that remain, so a
  /// hostile count is refused before anything is reserved for it.
  void check_count(uint64_t n, uint64_t min_bytes, const What& what) const {
    if (min_bytes > 0 && n > remaining() / min_bytes) {
      fail(what.str() + " at byte " + std::to_string(pos_) + " claims " + std::to_string(n) +
           " items, which cannot fit in the " + std::to_string(remaining()) + " bytes that remain");
    }
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& file_;
  uint32_t version_ = 0;
};

bool is_valid_value_type(uint32_t t) { return t <= uint32_t(ValueType::Float64); }

/// Bytes a scalar of type `t` occupies; 0 for strings and arrays (variable size).
uint64_t scalar_bytes(ValueType t) {
  switch (t) {
    case ValueType::UInt8: case ValueType::Int8: case ValueType::Bool: return 1;
    case ValueType::UInt16: case ValueType::Int16: return 2;
    case ValueType::UInt32: case ValueType::Int32: case ValueType::Float32: return 4;
    case ValueType::UInt64: case ValueType::Int64: case ValueType::Float64: return 8;
    case ValueType::String: case ValueType::Array: return 0;
  }
  return 0;
}

/// The fewest bytes one value of type `t` can take (a string: its length; an array: its element
/// type and count), used to bound counts before reserving.
uint64_t min_value_bytes(ValueType t, const Cursor& c) {
  if (t == ValueType::String) return c.count_bytes();
  if (t == ValueType::Array) return 4 + c.count_bytes();
  return scalar_bytes(t);
}

/// Sign-extends the low `bytes` bytes of `v`.
int64_t sign_extend(uint64_t v, unsigned bytes) {
  const unsigned shift = 64 - 8 * bytes;
  return static_cast<int64_t>(v << shift) >> shift;
}

float float_from_bits(uint32_t bits) {
  float f;
  static_assert(sizeof f == sizeof bits, "float must be 32 bits");
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
double double_from_bits(uint64_t bits) {
  double d;
  static_assert(sizeof d == sizeof bits, "double must be 64 bits");
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

/// Parses metadata values; counts every value (array items before they are reserved) against
/// kMaxMetadataValues.
class ValueParser {
 public:
  explicit ValueParser(Cursor& c) : c_(c) {}

  Value value(ValueType type, const std::string& key, int depth) {
    if (depth == 0) count_values(1, key);  // array items are counted with their array
    Value v;
    v.type = type;
    if (type == ValueType::Array) {
      array(v, key, depth);
    } else if (type == ValueType::String) {
      v.string = c_.string(What("the string value of metadata key ", &key));
    } else {
      scalar(v, key);
    }
    return v;
  }

 private:
  void count_values(uint64_t n, const std::string& key) {
    if (n > kMaxMetadataValues - values_) {
      c_.fail("metadata key " + key + " brings the metadata past " +
              std::to_string(kMaxMetadataValues) + " values, more than mechscope accepts");
    }
    values_ += n;
  }

  void scalar(Value& v, const std::string& key) {
    const unsigned bytes = unsigned(scalar_bytes(v.type));
    const uint64_t raw = c_.unsigned_le(bytes, What("the value of metadata key ", &key));
    switch (v.type) {
      case ValueType::Int8: case ValueType::Int16: case ValueType::Int32: case ValueType::Int64:
        v.integer = sign_extend(raw, bytes);
        break;
      case ValueType::Bool:
        v.integer = raw != 0;
        break;
      case ValueType::Float32:
        v.real = float_from_bits(uint32_t(raw));
        break;
      case ValueType::Float64:
        v.real = double_from_bits(raw);
        break;
      default:  // unsigned integers; uint64 above INT64_MAX keeps its bit pattern
        v.integer = static_cast<int64_t>(raw);
        break;
    }
  }

  void array(Value& v, const std::string& key, int depth) {
    if (depth >= kMaxArrayDepth) {
      c_.fail("metadata key " + key + " nests arrays more than " + std::to_string(kMaxArrayDepth) +
              " deep");
    }
    const uint32_t element = c_.u32("the array element type of metadata key " + key);
    if (!is_valid_value_type(element)) {
      c_.fail("metadata key " + key + " is an array of unknown value type " +
              std::to_string(element));
    }
    v.element_type = ValueType(element);
    const uint64_t n = c_.count("the array length of metadata key " + key);
    c_.check_count(n, min_value_bytes(v.element_type, c_), "the array of metadata key " + key);
    count_values(n, key);
    v.items.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) v.items.push_back(value(v.element_type, key, depth + 1));
  }

  Cursor& c_;
  uint64_t values_ = 0;
};

/// a * b, or nullopt when it overflows int64 (both non-negative).
std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return std::nullopt;
  return a * b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Value

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UInt8: return "uint8";
    case ValueType::Int8: return "int8";
    case ValueType::UInt16: return "uint16";
    case ValueType::Int16: return "int16";
    case ValueType::UInt32: return "uint32";
    case ValueType::Int32: return "int32";
    case ValueType::Float32: return "float32";
    case ValueType::Bool: return "bool";
    case ValueType::String: return "string";
    case ValueType::Array: return "array";
    case ValueType::UInt64: return "uint64";
    case ValueType::Int64: return "int64";
    case ValueType::Float64: return "float64";
  }
  return "unknown";
}

bool Value::is_integer() const {
  return type != ValueType::Float32 && type != ValueType::Float64 && type != ValueType::String &&
         type != ValueType::Array;
}

bool Value::is_number() const {
  return is_integer() || type == ValueType::Float32 || type == ValueType::Float64;
}

double Value::as_number() const {
  if (type == ValueType::UInt64) return double(static_cast<uint64_t>(integer));
  if (is_integer()) return double(integer);
  if (is_number()) return real;
  throw Error(std::string("A GGUF metadata value of type ") + value_type_name(type) +
              " is not a number.");
}

// ---------------------------------------------------------------------------------------------
// TensorInfo

std::vector<int64_t> TensorInfo::shape() const { return {dims.rbegin(), dims.rend()}; }

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;  // validated at load not to overflow
  return n;
}

// ---------------------------------------------------------------------------------------------
// File: parsing

namespace {

/// The parts of File's constructor, on one cursor. Each step checks what it reads.
class Parser {
 public:
  explicit Parser(Cursor& c) : c_(c) {}

  uint32_t header(uint64_t& n_tensors, uint64_t& n_kv) {
    const uint32_t magic = c_.u32("the magic number");
    if (magic != kMagic) c_.fail("it does not start with the magic bytes \"GGUF\"");
    const uint32_t version = c_.u32("the version");
    if (version < 1 || version > 3) {
      if (version != 0 && (version & 0xFFFF) == 0) {
        c_.fail("its version field reads " + std::to_string(version) +
                ", which looks like a big-endian GGUF file; only little-endian files are supported");
      }
      c_.fail("GGUF version " + std::to_string(version) + " is not supported (only 1 to 3)");
    }
    c_.set_version(version);
    n_tensors = c_.count("the tensor count");
    n_kv = c_.count("the metadata count");
    return version;
  }

  void metadata(uint64_t n_kv, std::vector<std::pair<std::string, Value>>& out,
                std::map<std::string, size_t>& index) {
    // Each entry holds at least a key length, a value type and one byte of value.
    c_.check_count(n_kv, c_.count_bytes() + 4 + 1, "the metadata count");
    out.reserve(size_t(n_kv));
    ValueParser values(c_);
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key = c_.string("metadata key " + std::to_string(i));
      const uint32_t type = c_.u32("the value type of metadata key " + key);
      if (!is_valid_value_type(type)) {
        c_.fail("metadata key " + key + " has unknown value type " + std::to_string(type));
      }
      if (!index.emplace(key, out.size()).second) c_.fail("metadata key " + key + " appears twice");
      Value v = values.value(ValueType(type), key, 0);
      out.emplace_back(std::move(key), std::move(v));
    }
  }

  void tensor_infos(uint64_t n, std::vector<TensorInfo>& out, std::map<std::string, size_t>& index) {
    // Each info holds at least a name length, n_dims, a type and an offset.
    c_.check_count(n, c_.count_bytes() + 4 + 4 + 8, "the tensor count");
    out.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) {
      TensorInfo t = tensor_info(i);
      if (!index.emplace(t.name, out.size()).second) c_.fail("tensor " + t.name + " appears twice");
      out.push_back(std::move(t));
    }
  }

  /// general.alignment: an unsigned integer that is a non-zero power of two (default 32).
  uint64_t alignment(const Value* v) const {
    if (v == nullptr) return kDefaultAlignment;
    const bool is_unsigned = v->type == ValueType::UInt8 || v->type == ValueType::UInt16 ||
                             v->type == ValueType::UInt32 || v->type == ValueType::UInt64;
    const uint64_t a = static_cast<uint64_t>(v->integer);
    if (!is_unsigned || a == 0 || (a & (a - 1)) != 0) {
      c_.fail("general.alignment must be an unsigned integer that is a power of two, not " +
              (v->is_integer() ? std::to_string(v->integer)
                               : "a " + std::string(value_type_name(v->type))));
    }
    return a;
  }

  /// The absolute offset of the tensor data: the end of the tensor infos padded to `alignment`.
  /// It must lie inside the file when there are tensors.
  uint64_t data_offset(uint64_t alignment, bool has_tensors) const {
    const uint64_t pad = (alignment - c_.pos() % alignment) % alignment;
    if (pad > c_.remaining()) {
      if (has_tensors) {
        c_.fail("the tensor data section would start past the end of the file (padding to " +
                std::to_string(alignment) + " bytes after byte " + std::to_string(c_.pos()) + ")");
      }
      return c_.pos();  // no tensors: the file may end without padding
    }
    return c_.pos() + pad;
  }

  /// Every tensor's extent lies inside the data section, starts at an aligned offset and overlaps
  /// no other tensor.
  void check_extents(const std::vector<TensorInfo>& tensors, uint64_t alignment,
                     uint64_t data_size) const {
    std::vector<const TensorInfo*> by_offset;
    for (const TensorInfo& t : tensors) {
      if (t.offset % alignment != 0) {
        c_.fail("tensor " + t.name + " starts at data offset " + std::to_string(t.offset) +
                ", which is not a multiple of the alignment " + std::to_string(alignment));
      }
      if (t.offset > data_size || t.bytes > data_size - t.offset) {
        c_.fail("tensor " + t.name + " (" + std::to_string(t.bytes) + " bytes at data offset " +
                std::to_string(t.offset) + ") extends past the end of the file, whose data section holds " +
                std::to_string(data_size) + " bytes");
      }
      if (t.bytes > 0) by_offset.push_back(&t);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const TensorInfo& prev = *by_offset[i - 1];
      const TensorInfo& next = *by_offset[i];
      if (next.offset < prev.offset + prev.bytes) {
        c_.fail("tensors " + prev.name + " and " + next.name + " overlap in the data section");
      }
    }
  }

 private:
  TensorInfo tensor_info(uint64_t i) {
    TensorInfo t;
    t.name = c_.string("the name of tensor " + std::to_string(i));
    const uint32_t n_dims = c_.u32("the dimension count of tensor " + t.name);
    if (n_dims > kMaxDims) {
      c_.fail("tensor " + t.name + " has " + std::to_string(n_dims) + " dimensions, more than " +
              std::to_string(kMaxDims));
    }
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = c_.count("dimension " + std::to_string(d) + " of tensor " + t.name);
      if (dim > uint64_t(std::numeric_limits<int64_t>::max())) {
        c_.fail("tensor " + t.name + " has a negative dimension");
      }
      t.dims.push_back(int64_t(dim));
    }
    t.type = c_.u32("the type of tensor " + t.name);
    t.offset = c_.u64("the data offset of tensor " + t.name);
    t.bytes = extent(t);
    return t;
  }

  /// The tensor's size in bytes from its dims and type's block layout; refuses unknown types,
  /// element counts that overflow and rows that are not whole blocks.
  uint64_t extent(const TensorInfo& t) const {
    const auto layout = block_layout(t.type);
    if (!layout) {
      c_.fail("tensor " + t.name + " has " + tensor_type_name(t.type) +
              ", which is not a GGML tensor type mechscope knows");
    }
    int64_t numel = 1;
    for (int64_t d : t.dims) {
      const auto n = checked_mul(numel, d);
      if (!n) c_.fail("the dimensions of tensor " + t.name + " overflow a 64-bit element count");
      numel = *n;
    }
    const int64_t row = t.dims.empty() ? 1 : t.dims[0];
    if (row % layout->elements != 0) {
      c_.fail("tensor " + t.name + " has rows of " + std::to_string(row) + " elements, not a multiple of the " +
              std::to_string(layout->elements) + "-element blocks of type " + tensor_type_name(t.type));
    }
    const auto bytes = checked_mul(numel / layout->elements, layout->bytes);
    if (!bytes) c_.fail("the size in bytes of tensor " + t.name + " overflows 64 bits");
    return uint64_t(*bytes);
  }

  Cursor& c_;
};

}  // namespace

File::File(const std::filesystem::path& path) : file_(MappedFile::open(path)) {
  const std::string name = path.string();
  Cursor c(file_->data(), file_->size(), name);
  Parser parser(c);
  uint64_t n_tensors = 0, n_kv = 0;
  version_ = parser.header(n_tensors, n_kv);
  parser.metadata(n_kv, metadata_, metadata_index_);
  parser.tensor_infos(n_tensors, tensors_, tensor_index_);
  alignment_ = parser.alignment(find("general.alignment"));
  data_offset_ = parser.data_offset(alignment_, !tensors_.empty());
  parser.check_extents(tensors_, alignment_, file_->size() - data_offset_);
}

const std::filesystem::path& File::path() const { return file_->path(); }

// ---------------------------------------------------------------------------------------------
// File: metadata access

namespace {

[[noreturn]] void fail_key(const File& f, const std::string& key, const std::string& problem) {
  throw Error("GGUF file " + f.path().string() + ": metadata key " + key + " " + problem + ".");
}

/// The value of `key`, which must satisfy `ok`; `wanted` names the expected kind for the message.
template <typename Ok>
const Value& typed(const File& f, const std::string& key, Ok ok, const char* wanted) {
  const Value& v = f.require(key);
  if (!ok(v)) {
    const std::string got = v.type == ValueType::Array
                                ? std::string("an array of ") + value_type_name(v.element_type)
                                : std::string("of type ") + value_type_name(v.type);
    fail_key(f, key, "is " + got + ", not " + wanted);
  }
  return v;
}

bool is_string(const Value& v) { return v.type == ValueType::String; }
bool is_number(const Value& v) { return v.is_number(); }
bool is_integer(const Value& v) { return v.is_integer(); }

/// An array whose element type satisfies `ok` (checked on a value of that type, so an empty
/// array qualifies by its declared element type).
template <typename Ok>
auto array_of(Ok ok) {
  return [ok](const Value& v) {
    Value element;
    element.type = v.element_type;
    return v.type == ValueType::Array && ok(element);
  };
}

/// An integer value as int64; uint64 values above INT64_MAX are refused.
int64_t to_int64(const File& f, const std::string& key, const Value& v) {
  if (v.type == ValueType::UInt64 && v.integer < 0) {
    fail_key(f, key, "holds " + std::to_string(static_cast<uint64_t>(v.integer)) +
                         ", which does not fit in a signed 64-bit integer");
  }
  return v.integer;
}

}  // namespace

const Value* File::find(const std::string& key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const Value& File::require(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) fail_key(*this, key, "is missing");
  return *v;
}

int64_t File::integer(const std::string& key) const {
  return to_int64(*this, key, typed(*this, key, is_integer, "an integer"));
}

int64_t File::integer(const std::string& key, int64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}

double File::number(const std::string& key, double fallback) const {
  return has(key) ? typed(*this, key, is_number, "a number").as_number() : fallback;
}

bool File::boolean(const std::string& key, bool fallback) const {
  return has(key) ? typed(*this, key, is_integer, "a bool").integer != 0 : fallback;
}

std::string File::string(const std::string& key) const {
  return typed(*this, key, is_string, "a string").string;
}

std::string File::string(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

std::vector<std::string> File::strings(const std::string& key) const {
  const Value& v = typed(*this, key, array_of(is_string), "an array of strings");
  std::vector<std::string> out;
  out.reserve(v.items.size());
  for (const Value& item : v.items) out.push_back(item.string);
  return out;
}

std::vector<double> File::numbers(const std::string& key) const {
  const Value& v = typed(*this, key, array_of(is_number), "an array of numbers");
  std::vector<double> out;
  out.reserve(v.items.size());
  for (const Value& item : v.items) out.push_back(item.as_number());
  return out;
}

std::vector<int64_t> File::integers(const std::string& key) const {
  const Value& v = typed(*this, key, array_of(is_integer), "an array of integers");
  std::vector<int64_t> out;
  out.reserve(v.items.size());
  for (const Value& item : v.items) out.push_back(to_int64(*this, key, item));
  return out;
}

// ---------------------------------------------------------------------------------------------
// File: tensors

const TensorInfo* File::tensor(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* File::tensor_data(const TensorInfo& t) const {
  const uint64_t data_size = file_->size() - data_offset_;
  if (t.offset > data_size || t.bytes > data_size - t.offset) {
    throw Error("GGUF file " + path().string() + " has no tensor data for " + t.name +
                " at data offset " + std::to_string(t.offset) + " (is it a tensor of another file?).");
  }
  return file_->data() + data_offset_ + t.offset;
}

}  // namespace mechscope::gguf
