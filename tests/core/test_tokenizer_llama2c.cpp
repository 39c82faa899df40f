// llama2.c tokenizer.bin (stories260K's tok512.bin) against a Python port of llama2.c's encode()
// (tests/reference/make_llama2c_tokenizer_goldens.py), plus round trips and bad files.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "tests/test_paths.h"

namespace {

using mechscope::test::fixtures_dir;

std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::filesystem::path tok512() { return fixtures_dir() / "stories260K" / "tok512.bin"; }

}  // namespace

TEST_CASE("llama2.c tokenizer matches llama2.c's encode()", "[tokenizer][llama2c]") {
  if (!mechscope::test::have_fixtures()) {
    WARN("Skipping: the shared fixtures are not present at " << fixtures_dir());
    return;
  }
  auto tok = mechscope::load_tokenizer(tok512(), 512);
  REQUIRE(tok->vocab_size() == 512);
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK(tok->token_string(1) == "\n<s>\n");
  CHECK(tok->token_text(1) == "<s>");
  CHECK(tok->token_to_id("<s>") == 1);
  CHECK(tok->token_string(3 + 0x41) == "<0x41>");
  CHECK(tok->token_text(3 + 0x41) == "A");

  std::ifstream in(mechscope::test::golden_dir() / "tokenizers" / "llama2c_tok512" / "cases.json");
  const auto cases = nlohmann::json::parse(in)["cases"];
  REQUIRE(cases.size() >= 10);
  for (const auto& c : cases) {
    const std::string text = from_hex(c["text_hex"].get<std::string>());
    INFO("text: '" << text << "'");
    const auto enc = tok->encode(text);
    CHECK(enc.ids == c["ids"].get<std::vector<int64_t>>());
    CHECK(tok->encode(text, false).ids == c["ids_no_bos"].get<std::vector<int64_t>>());
    REQUIRE(enc.offsets.size() == enc.ids.size());
    CHECK(enc.offsets[0] == std::make_pair<size_t, size_t>(0, 0));  // BOS.
    // Offsets are monotonic and end at the end of the text.
    size_t last_end = 0;
    for (size_t i = 1; i < enc.offsets.size(); ++i) {
      CHECK(enc.offsets[i].first <= enc.offsets[i].second);
      CHECK(enc.offsets[i].second >= last_end);
      last_end = enc.offsets[i].second;
    }
    CHECK(last_end == text.size());
    if (text.find('\xff') == std::string::npos && text.find('\x80') == std::string::npos) {
      CHECK(tok->decode(enc.ids, true) == text);
      CHECK(tok->decode(tok->encode(text, false).ids) == text);
    }
  }
}

TEST_CASE("llama2.c tokenizer: known ids, byte fallback and decoding", "[tokenizer][llama2c]") {
  if (!mechscope::test::have_fixtures()) {
    WARN("Skipping: the shared fixtures are not present at " << fixtures_dir());
    return;
  }
  auto tok = mechscope::load_llama2c_tokenizer(tok512(), 512);
  // BOS first; " Once" is one token covering "Once" (the dummy prefix covers no input).
  const auto enc = tok->encode("Once upon a time");
  REQUIRE(enc.ids.size() >= 2);
  CHECK(enc.ids[0] == 1);
  CHECK(tok->token_text(enc.ids[1]) == " Once");
  CHECK(enc.offsets[1] == std::make_pair<size_t, size_t>(0, 4));
  CHECK(tok->decode(enc.ids) == "<s>Once upon a time");
  CHECK(tok->decode(enc.ids, true) == "Once upon a time");

  // A CJK character is not in the 512-token vocabulary: its three bytes become ids byte + 3,
  // each covering the whole character.
  const auto cjk = tok->encode("\xE6\x88\x91", false);
  REQUIRE(cjk.ids.size() == 4);
  CHECK(cjk.ids[1] == 0xE6 + 3);
  CHECK(cjk.ids[2] == 0x88 + 3);
  CHECK(cjk.ids[3] == 0x91 + 3);
  for (size_t i = 1; i < 4; ++i) CHECK(cjk.offsets[i] == std::make_pair<size_t, size_t>(0, 3));
  CHECK(tok->decode(cjk.ids) == "\xE6\x88\x91");
  // A lone byte token is not valid UTF-8 on its own.
  CHECK(tok->decode({0xE6 + 3}) == "\xEF\xBF\xBD");
  CHECK(tok->token_text(0xE6 + 3) == "\xEF\xBF\xBD");
  // Out-of-range ids are ignored rather than crashing.
  CHECK(tok->decode({-5, 100000}) == "");

  // load_tokenizer without a vocabulary size reads every token in the file.
  CHECK(mechscope::load_tokenizer(tok512())->vocab_size() == 512);
}

TEST_CASE("llama2.c tokenizer: bad files give clear errors", "[tokenizer][llama2c]") {
  const auto dir = mechscope::test::scratch_path("test_tokenizer_llama2c");
  std::filesystem::create_directories(dir);
  CHECK_THROWS_WITH(mechscope::load_llama2c_tokenizer(dir / "missing.bin", 512),
                    Catch::Contains("does not exist"));
  { std::ofstream(dir / "empty.bin", std::ios::binary); }
  CHECK_THROWS_AS(mechscope::load_llama2c_tokenizer(dir / "empty.bin", 512), mechscope::Error);
  if (mechscope::test::have_fixtures()) {
    std::ifstream in(tok512(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir / "truncated.bin", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    CHECK_THROWS_WITH(mechscope::load_llama2c_tokenizer(dir / "truncated.bin", 512),
                      Catch::Contains("truncated"));
    // Asking for more tokens than the file holds is also a truncated file.
    CHECK_THROWS_WITH(mechscope::load_llama2c_tokenizer(tok512(), 600),
                      Catch::Contains("truncated"));
  }
  std::filesystem::remove_all(dir);
}
