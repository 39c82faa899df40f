// The GGUF reader (core/gguf/gguf_file.h): files written by pip gguf's GGUFWriter (goldens from
// tests/reference/make_gguf_goldens.py), GGUF v1/v2/v3 written here, the real fixtures, and every
// kind of malformed file, each refused with one sentence that names the file.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/gguf/gguf_file.h"
#include "core/util/error.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace mechscope;
using namespace mechscope::gguf;
using Catch::Matchers::Contains;

namespace {

// ---------------------------------------------------------------------------------------------
// A small GGUF writer for the tests: metadata and tensor infos are appended field by field, so a
// test can write well-formed files of any version or bend any field.

class Writer {
 public:
  explicit Writer(uint32_t version = 3) : version_(version) {}

  // Raw little-endian fields, appended to the metadata section.
  Writer& u8(uint8_t v) { return le(v, 1); }
  Writer& u32(uint32_t v) { return le(v, 4); }
  Writer& u64(uint64_t v) { return le(v, 8); }
  Writer& f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return u32(bits);
  }
  /// A length or count: uint32 in v1, uint64 later.
  Writer& count(uint64_t n) { return version_ == 1 ? u32(uint32_t(n)) : u64(n); }
  Writer& str(const std::string& s) {
    count(s.size());
    kv_.insert(kv_.end(), s.begin(), s.end());
    return *this;
  }
  /// Starts a metadata entry: its key and value type; the value follows.
  Writer& key(const std::string& k, ValueType t) {
    ++n_kv_;
    return str(k).u32(uint32_t(t));
  }
  Writer& kv_u32(const std::string& k, uint32_t v) { return key(k, ValueType::UInt32).u32(v); }
  Writer& kv_string(const std::string& k, const std::string& v) {
    return key(k, ValueType::String).str(v);
  }

  /// A tensor info (dims in GGUF order) at `offset` in the data section.
  Writer& tensor(const std::string& name, uint32_t type, std::vector<uint64_t> dims,
                 uint64_t offset) {
    ++n_tensors_;
    std::swap(kv_, infos_);  // the field writers append to kv_
    str(name).u32(uint32_t(dims.size()));
    for (uint64_t d : dims) count(d);
    u32(type).u64(offset);
    std::swap(kv_, infos_);
    return *this;
  }
  /// Appends to the tensor data section.
  Writer& data(size_t n, uint8_t fill = 0) {
    data_.insert(data_.end(), n, fill);
    return *this;
  }

  // Overrides for hostile headers.
  Writer& set_counts(uint64_t n_tensors, uint64_t n_kv) {
    n_tensors_ = n_tensors;
    n_kv_ = n_kv;
    return *this;
  }
  Writer& set_magic(const std::string& m) {
    magic_ = m;
    return *this;
  }

  /// The file: header, metadata, tensor infos, padding to `alignment`, data.
  std::vector<uint8_t> bytes(uint64_t alignment = 32) const {
    Writer head(version_);
    head.kv_.assign(magic_.begin(), magic_.end());
    head.u32(version_).count(n_tensors_).count(n_kv_);
    std::vector<uint8_t> out = head.kv_;
    out.insert(out.end(), kv_.begin(), kv_.end());
    out.insert(out.end(), infos_.begin(), infos_.end());
    out.resize((out.size() + alignment - 1) / alignment * alignment, 0);
    out.insert(out.end(), data_.begin(), data_.end());
    return out;
  }
  fs::path write(const std::string& name, uint64_t alignment = 32) const {
    return write_bytes(name, bytes(alignment));
  }

  /// Writes `b` to a scratch file, removed when the test process ends.
  static fs::path write_bytes(const std::string& name, const std::vector<uint8_t>& b) {
    struct Scratch {
      std::vector<fs::path> paths;
      ~Scratch() {
        std::error_code ec;
        for (const auto& p : paths) fs::remove(p, ec);
      }
    };
    static Scratch scratch;
    const fs::path p = test::scratch_path(name + ".gguf");
    std::ofstream(p, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    scratch.paths.push_back(p);
    return p;
  }

 private:
  Writer& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) kv_.push_back(uint8_t(v >> (8 * i)));
    return *this;
  }

  uint32_t version_;
  std::string magic_ = "GGUF";
  uint64_t n_tensors_ = 0, n_kv_ = 0;
  std::vector<uint8_t> kv_, infos_, data_;
};

constexpr uint32_t kF32 = uint32_t(TensorType::F32);
constexpr uint32_t kQ4_0 = uint32_t(TensorType::Q4_0);

/// A small valid file: two metadata entries (one an array), an F32 [4, 2] and a Q4_0 [32] tensor.
Writer small_file(uint32_t version) {
  Writer w(version);
  w.kv_string("general.architecture", "llama").kv_u32("llama.context_length", 128);
  w.key("tokenizer.ggml.tokens", ValueType::Array).u32(uint32_t(ValueType::String)).count(2);
  w.str("a").str("bc");
  w.tensor("token_embd.weight", kF32, {4, 2}, 0).tensor("output.weight", kQ4_0, {32}, 32);
  w.data(32, 0).data(18, 0x11);
  return w;
}

/// Expects opening `path` to throw mechscope::Error whose message names the file and contains
/// `what`.
void expect_refused(const fs::path& path, const std::string& what) {
  INFO("file " << path << ", expecting: " << what);
  try {
    File f(path);
    FAIL("the file was accepted");
  } catch (const Error& e) {
    const std::string msg = e.what();
    INFO("message: " << msg);
    CHECK_THAT(msg, Contains(path.string()) && Contains(what));
    CHECK(std::count(msg.begin(), msg.end(), '\n') == 0);
  }
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<float> read_f32(const fs::path& p) {
  const auto b = read_bytes(p);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Comparing with the goldens' JSON

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

/// A value as the script wrote it (see make_gguf_goldens.py: scalar_json / array_json).
void check_value(const nlohmann::json& j, const Value& v, const std::string& where) {
  INFO(where);
  REQUIRE(j["type"].get<std::string>() == value_type_name(v.type));
  const std::string type = j["type"];
  if (type == "array") {
    REQUIRE(j["element_type"].get<std::string>() == value_type_name(v.element_type));
    REQUIRE(j["items"].size() == v.items.size());
    for (size_t i = 0; i < v.items.size(); ++i) {
      CHECK(v.items[i].type == v.element_type);
      check_value(j["items"][i], v.items[i], where + "[" + std::to_string(i) + "]");
    }
  } else if (type == "string") {
    CHECK(v.string == (j.contains("hex") ? unhex(j["hex"]) : j["value"].get<std::string>()));
  } else if (type == "float32" || type == "float64") {
    CHECK(v.real == j["value"].get<double>());
  } else if (type == "bool") {
    CHECK(v.integer == (j["value"].get<bool>() ? 1 : 0));
  } else if (type == "uint64") {
    CHECK(static_cast<uint64_t>(v.integer) == j["value"].get<uint64_t>());
  } else {
    CHECK(v.integer == j["value"].get<int64_t>());
  }
}

/// Everything in <name>.json matches what the reader finds in <name>.gguf, and every tensor
/// dequantizes to the f32 values pip gguf gave, bit for bit.
void check_golden_file(const std::string& name) {
  const fs::path dir = test::golden_dir() / "gguf";
  std::ifstream in(dir / (name + ".json"));
  const nlohmann::json doc = nlohmann::json::parse(in);
  const std::vector<float> expected = read_f32(dir / (name + ".f32"));

  File f(dir / (name + ".gguf"));
  CHECK(f.version() == doc["version"].get<uint32_t>());
  CHECK(f.alignment() == doc["alignment"].get<uint64_t>());
  CHECK(f.data_offset() == doc["data_offset"].get<uint64_t>());

  REQUIRE(f.metadata().size() == doc["metadata"].size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    const auto& [key, value] = f.metadata()[i];
    CHECK(key == doc["metadata"][i]["key"].get<std::string>());
    check_value(doc["metadata"][i], value, key);
    CHECK(f.find(key) == &value);
  }

  REQUIRE(f.tensors().size() == doc["tensors"].size());
  for (const auto& jt : doc["tensors"]) {
    const TensorInfo* t = f.tensor(jt["name"]);
    REQUIRE(t != nullptr);
    INFO("tensor " << t->name);
    CHECK(tensor_type_name(t->type) == jt["type"].get<std::string>());
    CHECK(t->type == jt["type_id"].get<uint32_t>());
    CHECK(t->dims == jt["dims"].get<std::vector<int64_t>>());
    CHECK(t->offset == jt["offset"].get<uint64_t>());
    CHECK(t->bytes == jt["bytes"].get<uint64_t>());
    std::vector<float> out(size_t(t->numel()));
    dequantize_tensor(f, *t, out.data());
    const size_t start = jt["f32_start"];
    REQUIRE(start + out.size() <= expected.size());
    CHECK(std::memcmp(out.data(), expected.data() + start, out.size() * sizeof(float)) == 0);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Goldens from pip gguf

TEST_CASE("gguf: files written by pip gguf's GGUFWriter read back exactly", "[gguf]") {
  SECTION("every metadata value type, nested arrays, one tensor of each quant type") {
    check_golden_file("writer_v3");
  }
  SECTION("alignment 64, 1-D to 4-D tensors, integer and F64 tensors") {
    check_golden_file("writer_align64");
  }
}

TEST_CASE("gguf: typed metadata accessors", "[gguf]") {
  const File f(test::golden_dir() / "gguf" / "writer_v3.gguf");
  CHECK(f.integer("test.u8") == 200);
  CHECK(f.integer("test.i8") == -100);
  CHECK(f.integer("test.u32") == 4000000000LL);
  CHECK(f.integer("test.i64") == std::numeric_limits<int64_t>::min());
  CHECK(f.integer("test.u64_small") == 12345678901234LL);
  CHECK(f.integer("missing", 7) == 7);
  CHECK(f.number("test.f32", 0) == double(3.14159f));
  CHECK(f.number("test.i16", 0) == -30000);
  CHECK(f.number("test.u64", 0) == 18446744073709551615.0);
  CHECK(f.number("missing", 1.5) == 1.5);
  CHECK(f.boolean("test.bool_true", false));
  CHECK_FALSE(f.boolean("test.bool_false", true));
  CHECK(f.boolean("missing", true));
  CHECK(f.string("general.architecture") == "mechscope-test");
  CHECK(f.string("test.empty_string") == "");
  CHECK(f.string("missing", "dflt") == "dflt");
  CHECK(f.strings("test.arr_string") == std::vector<std::string>{"a", "", "\xc3\xbc\xc3\xb1\xc3\xae", "merges x"});
  CHECK(f.numbers("test.arr_f32") == std::vector<double>{0.5, -1.25, double(1e-3f)});
  CHECK(f.numbers("test.arr_u8") == std::vector<double>{0, 1, 255});
  CHECK(f.integers("test.arr_i32") == std::vector<int64_t>{-2147483648LL, 2147483647, 7});
  CHECK(f.integers("test.arr_bool") == std::vector<int64_t>{1, 0, 1});
  CHECK(f.has("test.nested3"));
  CHECK_FALSE(f.has("missing"));
  CHECK(f.require("test.nested3").items[1].items[0].items[1].integer == 3);

  const std::string file = f.path().string();
  // Missing keys and wrong types: one sentence naming the file and the key.
  CHECK_THROWS_WITH(f.require("missing"), Contains(file) && Contains("missing is missing"));
  CHECK_THROWS_WITH(f.integer("missing"), Contains(file) && Contains("missing"));
  CHECK_THROWS_WITH(f.integer("test.string"), Contains("test.string is of type string, not an integer"));
  CHECK_THROWS_WITH(f.integer("test.u64"), Contains("does not fit in a signed 64-bit integer"));
  CHECK_THROWS_WITH(f.integer("test.f32"), Contains("test.f32"));
  CHECK_THROWS_WITH(f.string("test.u8"), Contains("is of type uint8, not a string"));
  CHECK_THROWS_WITH(f.number("test.arr_f32", 0), Contains("is an array of float32, not a number"));
  CHECK_THROWS_WITH(f.boolean("test.string", false), Contains("not a bool"));
  CHECK_THROWS_WITH(f.strings("test.arr_i32"), Contains("is an array of int32, not an array of strings"));
  CHECK_THROWS_WITH(f.strings("test.string"), Contains("not an array of strings"));
  CHECK_THROWS_WITH(f.numbers("test.arr_string"), Contains("not an array of numbers"));
  CHECK_THROWS_WITH(f.integers("test.arr_f32"), Contains("not an array of integers"));
  CHECK_THROWS_WITH(f.integers("test.nested_i32"), Contains("is an array of array"));
  CHECK_THROWS_WITH(f.integers("test.arr_u64"), Contains("does not fit"));
  CHECK_THROWS_AS(f.require("test.string").as_number(), Error);
}

TEST_CASE("gguf: value and tensor helpers", "[gguf]") {
  Value v;
  v.type = ValueType::Bool;
  v.integer = 1;
  CHECK(v.is_integer());
  CHECK(v.as_number() == 1);
  v.type = ValueType::Float64;
  v.real = 0.25;
  CHECK_FALSE(v.is_integer());
  CHECK(v.is_number());
  CHECK(v.as_number() == 0.25);
  v.type = ValueType::Array;
  CHECK_FALSE(v.is_number());
  CHECK(std::string(value_type_name(ValueType::UInt64)) == "uint64");
  CHECK(std::string(value_type_name(ValueType(99))) == "unknown");

  TensorInfo t;
  t.dims = {4, 3, 2};
  CHECK(t.shape() == std::vector<int64_t>{2, 3, 4});
  CHECK(t.numel() == 24);
  t.dims = {};
  CHECK(t.numel() == 1);  // a scalar
}

// ---------------------------------------------------------------------------------------------
// Versions 1, 2 and 3

TEST_CASE("gguf: versions 1, 2 and 3 read the same content", "[gguf]") {
  for (uint32_t version : {1u, 2u, 3u}) {
    INFO("version " << version);
    const File f(small_file(version).write("v" + std::to_string(version)));
    CHECK(f.version() == version);
    CHECK(f.alignment() == 32);
    CHECK(f.string("general.architecture") == "llama");
    CHECK(f.integer("llama.context_length") == 128);
    CHECK(f.strings("tokenizer.ggml.tokens") == std::vector<std::string>{"a", "bc"});
    REQUIRE(f.tensors().size() == 2);
    CHECK(f.tensors()[0].name == "token_embd.weight");
    CHECK(f.tensors()[0].dims == std::vector<int64_t>{4, 2});
    CHECK(f.tensors()[0].shape() == std::vector<int64_t>{2, 4});
    CHECK(f.tensors()[0].bytes == 32);
    const TensorInfo* q = f.tensor("output.weight");
    REQUIRE(q != nullptr);
    CHECK(q->bytes == 18);
    CHECK(f.tensor_data(*q) == f.mapping()->data() + f.data_offset() + 32);
    CHECK(f.tensor_data(*q)[0] == 0x11);
    CHECK(f.tensor("nope") == nullptr);
  }
}

TEST_CASE("gguf: edge cases that are valid", "[gguf]") {
  SECTION("no tensors, no metadata, no padding") {
    const File f(Writer().write_bytes("empty", Writer().bytes(1)));
    CHECK(f.metadata().empty());
    CHECK(f.tensors().empty());
    CHECK(f.data_offset() == 24);
  }
  SECTION("empty arrays, empty strings, a scalar tensor and a tensor with a zero dimension") {
    Writer w;
    w.key("empty.u8", ValueType::Array).u32(uint32_t(ValueType::UInt8)).count(0);
    w.key("empty.nested", ValueType::Array).u32(uint32_t(ValueType::Array)).count(1);
    w.u32(uint32_t(ValueType::String)).count(0);
    w.kv_string("", "");
    w.tensor("scalar", kF32, {}, 0).tensor("none", kF32, {0, 5}, 0).tensor("also_none", kF32, {8, 0}, 0);
    w.data(4);
    const File f(w.write("edges"));
    CHECK(f.require("empty.u8").items.empty());
    CHECK(f.integers("empty.u8").empty());
    CHECK(f.require("empty.nested").items.at(0).items.empty());
    CHECK(f.string("") == "");
    CHECK(f.tensor("scalar")->numel() == 1);
    CHECK(f.tensor("scalar")->bytes == 4);
    CHECK(f.tensor("none")->numel() == 0);
    CHECK(f.tensor("none")->bytes == 0);
  }
  SECTION("general.alignment of another unsigned type and value") {
    Writer w;
    w.key("general.alignment", ValueType::UInt64).u64(8);
    w.tensor("a", kF32, {2}, 0).tensor("b", kF32, {2}, 8).data(16);
    const File f(w.write("align8", 8));
    CHECK(f.alignment() == 8);
    CHECK(f.data_offset() % 8 == 0);
  }
  SECTION("bool values other than 0 and 1 read as true") {
    Writer w;
    w.key("b", ValueType::Bool).u8(7);
    CHECK(File(w.write("bool7")).boolean("b", false));
  }
}

// ---------------------------------------------------------------------------------------------
// Real fixtures

TEST_CASE("gguf: tinyllamas stories260K (GGUF v1, f32) matches the llama2.c checkpoint", "[gguf][fixtures]") {
  if (!test::have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping the tinyllamas GGUF test");
    return;
  }
  const File f(test::fixtures_dir() / "gguf" / "tinyllamas-stories-260k-f32.gguf");
  CHECK(f.version() == 1);
  CHECK(f.alignment() == 32);
  CHECK(f.string("general.architecture") == "llama");
  CHECK(f.integer("llama.embedding_length") == 64);
  CHECK(f.integer("llama.block_count") == 5);
  CHECK(f.integer("llama.attention.head_count") == 8);
  CHECK(f.integer("llama.attention.head_count_kv") == 4);
  CHECK(f.number("llama.attention.layer_norm_rms_epsilon", 0) == double(1e-5f));
  CHECK(f.strings("tokenizer.ggml.tokens").size() == 512);
  CHECK(f.numbers("tokenizer.ggml.scores").size() == 512);
  CHECK(f.strings("tokenizer.ggml.tokens")[1] == "<s>");
  CHECK(f.tensors().size() == 5 * 9 + 3);

  // stories260K.bin: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
  // seq_len), then token_embedding [vocab, dim], rms_att [L, dim], wq [L, dim, dim], …
  const auto bin = read_bytes(test::fixtures_dir() / "stories260K" / "stories260K.bin");
  int32_t header[7];
  std::memcpy(header, bin.data(), sizeof header);
  const int64_t dim = header[0], layers = header[2], vocab = header[5];
  CHECK(dim == 64);
  CHECK(vocab == 512);
  const size_t embd_at = sizeof header;
  const size_t wq_at = embd_at + size_t(4 * (vocab * dim + layers * dim));

  const TensorInfo* embd = f.tensor("token_embd.weight");
  REQUIRE(embd != nullptr);
  CHECK(embd->shape() == std::vector<int64_t>{vocab, dim});
  std::vector<float> out(size_t(embd->numel()));
  dequantize_tensor(f, *embd, out.data());
  CHECK(std::memcmp(out.data(), bin.data() + embd_at, embd->bytes) == 0);

  const TensorInfo* wq = f.tensor("blk.0.attn_q.weight");
  REQUIRE(wq != nullptr);
  CHECK(wq->shape() == std::vector<int64_t>{dim, dim});
  CHECK(std::memcmp(f.tensor_data(*wq), bin.data() + wq_at, wq->bytes) == 0);
}

TEST_CASE("gguf: the GPT-2 vocabulary file (GGUF v3, no tensors)", "[gguf][fixtures]") {
  if (!test::have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping the GPT-2 vocabulary GGUF test");
    return;
  }
  const File f(test::fixtures_dir() / "gpt2" / "ggml-vocab-gpt-2.gguf");
  CHECK(f.version() == 3);
  CHECK(f.tensors().empty());
  CHECK(f.string("tokenizer.ggml.model") == "gpt2");
  CHECK(f.string("tokenizer.ggml.pre") == "gpt-2");
  const auto tokens = f.strings("tokenizer.ggml.tokens");
  REQUIRE(tokens.size() == 50257);
  CHECK(tokens[0] == "!");
  CHECK(tokens[50256] == "<|endoftext|>");
  CHECK(f.integers("tokenizer.ggml.token_type").size() == 50257);
  const auto merges = f.strings("tokenizer.ggml.merges");
  REQUIRE(merges.size() == 50000);
  CHECK(merges[0] == "\xc4\xa0 t");  // "Ġ t"
  CHECK(f.integer("tokenizer.ggml.bos_token_id") == 50256);
  CHECK(f.integer("tokenizer.ggml.eos_token_id") == 50256);
  CHECK(f.integer("gpt2.context_length") == 1024);
  CHECK(f.number("gpt2.attention.layer_norm_epsilon", 0) == double(1e-5f));
}

// ---------------------------------------------------------------------------------------------
// Malformed files

TEST_CASE("gguf: every truncation of a valid file is refused", "[gguf][bad]") {
  for (uint32_t version : {1u, 3u}) {
    const std::vector<uint8_t> full = small_file(version).bytes();
    for (size_t n = 0; n < full.size(); ++n) {
      INFO("version " << version << ", first " << n << " of " << full.size() << " bytes");
      const fs::path p = Writer::write_bytes("cut", {full.begin(), full.begin() + long(n)});
      CHECK_THROWS_AS(File(p), Error);
    }
  }
  const fs::path p = Writer::write_bytes("cut", {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0});
  expect_refused(p, "the tensor count at byte 8 needs 8 bytes but only 2 remain");
  const std::vector<uint8_t> full = small_file(3).bytes();
  expect_refused(Writer::write_bytes("cut", {full.begin(), full.begin() + 30}),
                 "the metadata count at byte 24 claims 3 items, which cannot fit in the 6 bytes");
  expect_refused(Writer::write_bytes("cut", {full.begin(), full.begin() + 66}),
                 "the string value of metadata key general.architecture at byte 64 needs 5 bytes but only 2 remain");
  expect_refused(Writer::write_bytes("cut", {full.begin(), full.end() - 1}),
                 "tensor output.weight (18 bytes at data offset 32) extends past the end of the file");
}

TEST_CASE("gguf: bad headers are refused", "[gguf][bad]") {
  expect_refused(Writer().set_magic("GGML").write("magic"), "does not start with the magic bytes \"GGUF\"");
  expect_refused(Writer(0).write("v0"), "GGUF version 0 is not supported");
  expect_refused(Writer(4).write("v4"), "GGUF version 4 is not supported");
  expect_refused(Writer(0x03000000).write("big_endian"), "looks like a big-endian GGUF file");
  expect_refused(Writer::write_bytes("empty_file", {}), "the magic number at byte 0 needs 4 bytes");
}

TEST_CASE("gguf: counts and lengths past the end are refused before allocating", "[gguf][bad]") {
  const uint64_t huge = uint64_t{1} << 60;
  expect_refused(Writer().set_counts(0, huge).write("n_kv"), "the metadata count at byte 24 claims");
  expect_refused(Writer().set_counts(huge, 0).write("n_tensors"), "the tensor count at byte 24 claims");
  expect_refused(Writer(1).set_counts(0, 0xFFFFFFFF).write("n_kv_v1"), "cannot fit in the");

  Writer array;
  array.key("arr", ValueType::Array).u32(uint32_t(ValueType::UInt8)).count(huge);
  expect_refused(array.write("array_count"), "the array of metadata key arr at byte");

  Writer nested;
  nested.key("arr", ValueType::Array).u32(uint32_t(ValueType::Array)).count(1);
  nested.u32(uint32_t(ValueType::Int64)).count(huge / 8);
  expect_refused(nested.write("nested_count"), "claims 144115188075855872 items");

  Writer string;
  string.key("s", ValueType::String).count(uint64_t{1} << 62);
  expect_refused(string.write("string_length"), "the string value of metadata key s at byte");

  Writer key;
  key.count(~uint64_t{0}).u64(0);
  key.set_counts(0, 1);
  expect_refused(key.write("key_length"), "metadata key 0 at byte 32 needs 18446744073709551615 bytes");

  // Counts that fit in the file but pass the metadata value limit (2^24 values in all).
  Writer many;
  many.key("many", ValueType::Array).u32(uint32_t(ValueType::UInt8)).count((uint64_t{1} << 24) + 1);
  many.data((size_t{1} << 24) + 1);
  expect_refused(many.write("many"), "metadata key many brings the metadata past 16777216 values");

  Writer name;
  name.tensor("t", kF32, {1}, 0);
  auto bytes = name.bytes();
  bytes[24] = 0xFF;  // the name's length, low byte
  expect_refused(Writer::write_bytes("name_length", bytes), "the name of tensor 0 at byte 32 needs");
}

TEST_CASE("gguf: bad metadata is refused", "[gguf][bad]") {
  Writer unknown;
  unknown.key("k", ValueType(13)).u32(0);
  expect_refused(unknown.write("value_type"), "metadata key k has unknown value type 13");

  Writer unknown_element;
  unknown_element.key("k", ValueType::Array).u32(200).count(1);
  expect_refused(unknown_element.write("element_type"), "metadata key k is an array of unknown value type 200");

  Writer duplicate;
  duplicate.kv_u32("k", 1).kv_u32("k", 2);
  expect_refused(duplicate.write("dup_key"), "metadata key k appears twice");

  Writer deep;
  deep.key("deep", ValueType::Array);
  for (int i = 0; i < 9; ++i) deep.u32(uint32_t(ValueType::Array)).count(1);
  deep.u32(uint32_t(ValueType::UInt8)).count(0);
  expect_refused(deep.write("deep"), "metadata key deep nests arrays more than 8 deep");

  for (uint64_t bad : {uint64_t{0}, uint64_t{48}, uint64_t{3}}) {
    Writer w;
    w.kv_u32("general.alignment", uint32_t(bad));
    expect_refused(w.write("align"), "general.alignment must be an unsigned integer that is a power of two, not " +
                                         std::to_string(bad));
  }
  Writer signed_alignment;
  signed_alignment.key("general.alignment", ValueType::Int32).u32(32);
  expect_refused(signed_alignment.write("align_i32"), "power of two, not 32");
  Writer string_alignment;
  string_alignment.kv_string("general.alignment", "32");
  expect_refused(string_alignment.write("align_str"), "power of two, not a string");
}

TEST_CASE("gguf: bad tensor infos are refused", "[gguf][bad]") {
  auto refused = [](const std::string& name, Writer w, const std::string& what, uint64_t align = 32) {
    expect_refused(w.write(name, align), what);
  };
  refused("dims5", Writer().tensor("t", kF32, {1, 1, 1, 1, 1}, 0).data(4),
          "tensor t has 5 dimensions, more than 4");
  refused("negative", Writer().tensor("t", kF32, {uint64_t(-2)}, 0), "tensor t has a negative dimension");
  refused("overflow", Writer().tensor("t", kF32, {uint64_t{1} << 32, uint64_t{1} << 32}, 0),
          "the dimensions of tensor t overflow a 64-bit element count");
  refused("bytes_overflow", Writer().tensor("t", uint32_t(TensorType::F64), {uint64_t{1} << 61}, 0),
          "the size in bytes of tensor t overflows 64 bits");
  refused("row", Writer().tensor("t", kQ4_0, {33, 2}, 0).data(64),
          "tensor t has rows of 33 elements, not a multiple of the 32-element blocks of type Q4_0");
  refused("type", Writer().tensor("t", 200, {4}, 0).data(32),
          "tensor t has type 200, which is not a GGML tensor type mechscope knows");
  refused("retired_type", Writer().tensor("t", 4, {32}, 0).data(32), "tensor t has type 4");
  refused("dup_tensor", Writer().tensor("t", kF32, {1}, 0).tensor("t", kF32, {1}, 32).data(64),
          "tensor t appears twice");
  refused("misaligned", Writer().tensor("a", kF32, {1}, 0).tensor("b", kF32, {1}, 4).data(64),
          "tensor b starts at data offset 4, which is not a multiple of the alignment 32");
  refused("overlap", Writer().tensor("a", kF32, {16}, 0).tensor("b", kF32, {8}, 32).data(96),
          "tensors a and b overlap in the data section");
  refused("overlap_reversed", Writer().tensor("b", kF32, {8}, 32).tensor("a", kF32, {16}, 0).data(96),
          "tensors a and b overlap in the data section");
  refused("past_end", Writer().tensor("t", kF32, {8}, 0).data(31),
          "tensor t (32 bytes at data offset 0) extends past the end of the file, whose data section holds 31 bytes");
  refused("offset_past_end", Writer().tensor("t", kF32, {1}, uint64_t{1} << 62).data(32),
          "tensor t (4 bytes at data offset 4611686018427387904) extends past the end");
  refused("huge_extent", Writer().tensor("t", kF32, {uint64_t{1} << 40}, 0).data(32), "extends past the end");

  // The data section itself would start past the end: infos end mid-block and the file stops.
  Writer w;
  w.tensor("t", kF32, {0}, 0);
  auto bytes = w.bytes(1);
  expect_refused(Writer::write_bytes("no_data", bytes),
                 "the tensor data section would start past the end of the file");
}

TEST_CASE("gguf: tensor data is only given for tensors of the file", "[gguf][bad]") {
  const File f(small_file(3).write("foreign"));
  TensorInfo other = f.tensors()[0];
  other.offset = 1 << 20;
  CHECK_THROWS_WITH(f.tensor_data(other), Contains(f.path().string()) && Contains("no tensor data for token_embd.weight"));
}

TEST_CASE("gguf: a tensor of a type mechscope cannot dequantize names the tensor, type and file", "[gguf]") {
  Writer w;
  w.tensor("blk.0.attn_q.weight", uint32_t(TensorType::Q8_K), {256}, 0).data(292);
  const File f(w.write("q8_k"));  // the reader accepts it: Q8_K's blocks have a known size
  const TensorInfo& t = f.tensors().at(0);
  CHECK(t.bytes == 292);
  std::vector<float> out(256);
  CHECK_THROWS_WITH(dequantize_tensor(f, t, out.data()),
                    Contains("tensor blk.0.attn_q.weight of " + f.path().string()) &&
                        Contains("has type Q8_K (15), which mechscope cannot dequantize"));
}
