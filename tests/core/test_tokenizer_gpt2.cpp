// GPT-2 byte-level BPE against llama.cpp's tokenizer test vectors (ggml-vocab-gpt-2.gguf.inp/.out).
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/tokenizer/tokenizer.h"
#include "tests/test_paths.h"

namespace {

using mechscope::test::fixtures_dir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// llama.cpp writes each test string followed by "\n__ggml_vocab_test__\n", so the strings are
// what lies between those separators (a string may itself be empty or only newlines).
std::vector<std::string> read_inputs(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  for (size_t next; (next = text.find(separator, pos)) != std::string::npos;
       pos = next + separator.size()) {
    out.push_back(text.substr(pos, next - pos));
  }
  return out;
}

// One line of space-separated ids per input string.
std::vector<std::vector<int64_t>> read_outputs(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<int64_t>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ss(line);
    std::vector<int64_t> ids;
    for (int64_t id; ss >> id;) ids.push_back(id);
    out.push_back(std::move(ids));
  }
  return out;
}

}  // namespace

TEST_CASE("GPT-2 tokenizer.json matches llama.cpp's test vectors", "[tokenizer][gpt2]") {
  if (!mechscope::test::have_fixtures()) {
    WARN("Skipping: the shared fixtures are not present at " << fixtures_dir());
    return;
  }
  const auto dir = fixtures_dir() / "gpt2";
  const auto start = std::chrono::steady_clock::now();
  auto tok = mechscope::load_tokenizer(dir / "tokenizer.json");
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(load_s < 2.0);  // Well under a second in release builds; generous for debug/CI.
  REQUIRE(tok->vocab_size() == 50257);
  CHECK(tok->bos_id() == 50256);
  CHECK(tok->eos_id() == 50256);

  const auto inputs = read_inputs(dir / "ggml-vocab-gpt-2.gguf.inp");
  const auto outputs = read_outputs(dir / "ggml-vocab-gpt-2.gguf.out");
  REQUIRE(inputs.size() == 46);
  REQUIRE(outputs.size() == inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& text = inputs[i];
    INFO("string " << i << ": '" << text << "'");
    const auto enc = tok->encode(text, /*add_special_tokens=*/false);
    CHECK(enc.ids == outputs[i]);
    CHECK(tok->decode(enc.ids) == text);
    REQUIRE(enc.offsets.size() == enc.ids.size());
    // Offsets tile the input. Tokens that split a character overlap their neighbours (each
    // reports the whole character); every other token slices exactly its own text.
    size_t expected_begin = 0;
    for (size_t t = 0; t < enc.ids.size(); ++t) {
      const auto [begin, end] = enc.offsets[t];
      CHECK(begin < end);
      CHECK(end <= text.size());
      CHECK(begin <= expected_begin);
      const bool clean = (t == 0 || enc.offsets[t - 1].second <= begin) &&
                         (t + 1 == enc.ids.size() || enc.offsets[t + 1].first >= end);
      if (clean) {
        CHECK(begin == expected_begin);
        CHECK(text.substr(begin, end - begin) == tok->token_text(enc.ids[t]));
      }
      expected_begin = end;
    }
    CHECK(expected_begin == text.size());
  }
}

TEST_CASE("GPT-2 tokens, special tokens and decoding", "[tokenizer][gpt2]") {
  if (!mechscope::test::have_fixtures()) {
    WARN("Skipping: the shared fixtures are not present at " << fixtures_dir());
    return;
  }
  auto tok = mechscope::load_tokenizer(fixtures_dir() / "gpt2" / "tokenizer.json");
  CHECK(tok->token_string(262) == "\xC4\xA0the");  // "Ġthe"
  CHECK(tok->token_text(262) == " the");
  CHECK(tok->token_to_id("\xC4\xA0the") == 262);
  CHECK(tok->token_to_id("<|endoftext|>") == 50256);
  CHECK_FALSE(tok->token_to_id("definitely not a token").has_value());

  // The special token written in the text is one token; GPT-2 adds nothing around the text.
  const auto enc = tok->encode("Hello<|endoftext|> world");
  CHECK(enc.ids == std::vector<int64_t>{15496, 50256, 995});
  CHECK(enc.offsets == std::vector<std::pair<size_t, size_t>>{{0, 5}, {5, 18}, {18, 24}});
  CHECK(tok->decode(enc.ids) == "Hello<|endoftext|> world");
  CHECK(tok->decode(enc.ids, /*skip_special_tokens=*/true) == "Hello world");

  // A lone continuation byte decodes to U+FFFD; a byte token of a split character too.
  CHECK(tok->decode({157}) == "\xEF\xBF\xBD");
  // An emoji split into two tokens: both report the whole character's range.
  const auto emoji = tok->encode("\xF0\x9F\x98\x81");  // U+1F601
  REQUIRE(emoji.ids.size() == 2);
  CHECK(emoji.offsets[0] == std::make_pair<size_t, size_t>(0, 4));
  CHECK(emoji.offsets[1] == std::make_pair<size_t, size_t>(0, 4));

  // Invalid UTF-8 input does not crash: it is tokenized as U+FFFD, aligned to the bad byte.
  const auto bad = tok->encode(
      "a\xFF"
      "b");
  CHECK(tok->decode(bad.ids) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(bad.offsets.back().second == 3);

  // Long words take the priority-queue path and the cache.
  const std::string long_word(5000, 'a');
  const auto long_enc = tok->encode(long_word);
  CHECK(tok->decode(long_enc.ids) == long_word);
  CHECK(long_enc.ids == tok->encode(long_word).ids);
}
