// SHA-256 against the FIPS 180-4 test vectors, and model fingerprints of files and folders.
#include <catch2/catch.hpp>
#include <fstream>

#include "core/session/fingerprint.h"
#include "core/session/sha256.h"
#include "core/util/error.h"
#include "tests/test_paths.h"

using namespace mechscope;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

/// The documented rule for one file, spelled out independently of fingerprint.cpp.
std::string expected_file_fingerprint(const std::string& content) {
  std::string input;
  for (int i = 0; i < 8; ++i) input += char(uint64_t(content.size()) >> (8 * i));
  if (content.size() <= kFingerprintWholeFileLimit)
    input += content;
  else
    input += content.substr(0, kFingerprintSampleBytes) +
             content.substr(content.size() - kFingerprintSampleBytes);
  return sha256_hex(input);
}

}  // namespace

TEST_CASE("SHA-256 matches the FIPS 180-4 test vectors", "[fingerprint]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // One million 'a', fed in uneven pieces to exercise the block buffering.
  Sha256 h;
  const std::string piece(997, 'a');
  size_t fed = 0;
  while (fed + piece.size() <= 1000000) {
    h.update(piece);
    fed += piece.size();
  }
  h.update(std::string(1000000 - fed, 'a'));
  CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Messages of 55, 56 and 64 bytes straddle the padding boundary.
  CHECK(sha256_hex(std::string(55, 'a')) ==
        "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(sha256_hex(std::string(56, 'a')) ==
        "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(sha256_hex(std::string(64, 'a')) ==
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("SHA-256 of the stories260K checkpoint matches its published pin",
          "[fingerprint][fixtures]") {
  if (!test::have_fixtures()) {
    WARN("../shared/fixtures is absent: skipping");
    return;
  }
  std::ifstream in(test::fixtures_dir() / "stories260K" / "stories260K.bin", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(sha256_hex(bytes) == "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696");
}

TEST_CASE("file fingerprints hash size and content, sampled above 64 MiB", "[fingerprint]") {
  const fs::path dir = test::scratch_path("fingerprint_files");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path small = dir / "small.bin";
  write_file(small, "hello");
  CHECK(file_fingerprint(small) == expected_file_fingerprint("hello"));
  write_file(small, "");
  CHECK(file_fingerprint(small) == expected_file_fingerprint(""));

  // 80 MiB: only the first and last 16 MiB (and the size) count.
  std::string big(80u << 20, '\0');
  for (size_t i = 0; i < big.size(); i += 4093) big[i] = char(i * 31);
  const fs::path large = dir / "large.bin";
  write_file(large, big);
  const std::string fp = file_fingerprint(large);
  CHECK(fp == expected_file_fingerprint(big));
  big[40u << 20] ^= 1;  // the middle is not sampled
  write_file(large, big);
  CHECK(file_fingerprint(large) == fp);
  big[big.size() - 1] ^= 1;  // the tail is
  write_file(large, big);
  CHECK(file_fingerprint(large) != fp);
  fs::remove(large);

  CHECK_THROWS_WITH(file_fingerprint(dir / "missing"),
                    "Cannot fingerprint " + (dir / "missing").string() + ": it does not exist.");
  fs::remove_all(dir);
}

TEST_CASE("folder fingerprints cover names, sizes, config.json and safetensors", "[fingerprint]") {
  const fs::path dir = test::scratch_path("fingerprint_folder");
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file(dir / "config.json", "{\"n_layers\": 2}");
  write_file(dir / "model.safetensors", "weights");
  write_file(dir / "tokenizer.json", "{}");
  write_file(dir / ".hidden", "ignored");
  const std::string text =
      std::string("config.json\t15\nmodel.safetensors\t7\ntokenizer.json\t2\n") + "config.json\t" +
      expected_file_fingerprint("{\"n_layers\": 2}") + "\n" + "model.safetensors\t" +
      expected_file_fingerprint("weights") + "\n";
  const std::string fp = file_fingerprint(dir);
  CHECK(fp == sha256_hex(text));

  write_file(dir / ".hidden", "changed");  // hidden files do not count
  CHECK(file_fingerprint(dir) == fp);
  write_file(dir / "tokenizer.json", "{\"x\":1}");  // other files count by size only
  CHECK(file_fingerprint(dir) != fp);
  write_file(dir / "tokenizer.json", "{}");
  CHECK(file_fingerprint(dir) == fp);
  write_file(dir / "model.safetensors", "weighTs");  // same size, new content
  CHECK(file_fingerprint(dir) != fp);

  // A real model folder: stable across calls.
  const fs::path gpt2 = test::golden_dir() / "models" / "gpt2";
  CHECK(file_fingerprint(gpt2) == file_fingerprint(gpt2));
  CHECK(file_fingerprint(gpt2).size() == 64);
  fs::remove_all(dir);
}
