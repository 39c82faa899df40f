// Bad tokenizer files give mechscope::Error with a clear message; unit checks of the building
// blocks (UTF-8, NFC, byte-level map, split behaviours, added-token matching).
#include <catch2/catch.hpp>
#include <fstream>

#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode.h"
#include "core/util/error.h"
#include "tests/test_paths.h"

namespace {

class TempDir {
 public:
  TempDir() : path_(mechscope::test::scratch_path("test_tokenizer_errors")) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

std::vector<std::string> texts(const std::vector<mechscope::NormalizedString>& pieces) {
  std::vector<std::string> out;
  for (const auto& p : pieces) out.push_back(p.text());
  return out;
}

}  // namespace

TEST_CASE("Bad tokenizer.json files throw mechscope::Error naming the file",
          "[tokenizer][errors]") {
  TempDir dir;
  using Catch::Contains;
  CHECK_THROWS_WITH(mechscope::load_hf_tokenizer("/nonexistent/tokenizer.json"),
                    Contains("/nonexistent/tokenizer.json") && Contains("does not exist"));
  CHECK_THROWS_WITH(mechscope::load_hf_tokenizer(dir.write("bad.json", "{\"model\": [1, 2")),
                    Contains("bad.json") && Contains("not valid JSON"));
  CHECK_THROWS_WITH(mechscope::load_hf_tokenizer(dir.write("array.json", "[1, 2]")),
                    Contains("array.json"));
  CHECK_THROWS_WITH(
      mechscope::load_hf_tokenizer(dir.write("nomodel.json", "{\"version\": \"1.0\"}")),
      Contains("nomodel.json") && Contains("model"));
  CHECK_THROWS_WITH(
      mechscope::load_hf_tokenizer(
          dir.write("unigram.json", R"({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}})")),
      Contains("unigram.json") && Contains("'Unigram'"));
  CHECK_THROWS_WITH(
      mechscope::load_hf_tokenizer(dir.write(
          "badnorm.json",
          R"({"normalizer": {"type": "Frobnicate"}, "model": {"type": "BPE", "vocab": {}, "merges": []}})")),
      Contains("badnorm.json") && Contains("'Frobnicate'"));
  CHECK_THROWS_WITH(
      mechscope::load_hf_tokenizer(dir.write(
          "badregex.json",
          R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"},
              "model": {"type": "BPE", "vocab": {}, "merges": []}})")),
      Contains("badregex.json") && Contains("(unclosed"));
  CHECK_THROWS_WITH(
      mechscope::load_hf_tokenizer(dir.write(
          "badvocab.json", R"({"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}})")),
      Contains("badvocab.json") && Contains("'a'"));
  CHECK_THROWS_WITH(
      mechscope::load_hf_tokenizer(dir.write(
          "badmerge.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [42]}})")),
      Contains("badmerge.json") && Contains("merge"));
  CHECK_THROWS_WITH(
      mechscope::load_hf_tokenizer(dir.write("ok.json", R"({"model": {"type": "WordLevel",
          "vocab": {"a": 0}, "unk_token": "[UNK]"}})"),
                                   dir.write("tokenizer_config.json", "{oops")),
      Contains("tokenizer_config.json") && Contains("not valid JSON"));
  CHECK_THROWS_WITH(mechscope::load_tokenizer(dir.write("weights.safetensors", "")),
                    Contains("weights.safetensors"));
}

TEST_CASE("A minimal hand-written tokenizer.json works", "[tokenizer]") {
  TempDir dir;
  // Legacy-format merges, no pre-tokenizer/decoder: decode joins tokens with spaces (HF).
  auto tok = mechscope::load_hf_tokenizer(dir.write("mini.json", R"({
    "added_tokens": [{"id": 5, "content": "<eos>", "special": true}],
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "c": 3, "abc": 4},
              "merges": ["a b", "ab c"]}})"));
  CHECK(tok->vocab_size() == 6);
  CHECK(tok->encode("abcab").ids == std::vector<int64_t>{4, 2});
  CHECK(tok->encode("abc<eos>").ids == std::vector<int64_t>{4, 5});
  CHECK(tok->eos_id() == 5);
  CHECK(tok->decode({4, 2}) == "abc ab");
  CHECK(tok->decode({4, 5}, true) == "abc");
  // "z" is not in the vocabulary and there is no unknown token: HF drops it (and "a", "b" merge).
  CHECK(tok->encode("azb").ids == std::vector<int64_t>{2});
}

TEST_CASE("UTF-8 helpers and canonical normalization", "[tokenizer][unicode]") {
  using namespace mechscope::unicode;
  CHECK(sanitize_utf8("ok") == "ok");
  CHECK(sanitize_utf8("a\xE4\xB8"
                      "b") ==
        "a\xEF\xBF\xBD"
        "b");  // Truncated sequence: one U+FFFD.
  CHECK(sanitize_utf8("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // Overlong: per byte.
  CHECK(sanitize_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // Surrogate.
  CHECK(to_utf8(nfc(to_u32("e\xCC\x81"))) == "\xC3\xA9");  // e + acute -> é
  CHECK(to_utf8(nfd(to_u32("\xC3\xA9"))) == "e\xCC\x81");
  CHECK(to_utf8(nfc(to_u32("\xE1\x84\x80\xE1\x85\xA1"))) == "\xEA\xB0\x80");  // Hangul L+V -> 가
  // Singleton decomposition: Ohm sign -> Omega; ordering of combining marks.
  CHECK(to_utf8(nfc(to_u32("\xE2\x84\xA6"))) == "\xCE\xA9");
  CHECK(to_utf8(nfd(to_u32("a\xCC\x81\xCC\xA3"))) == "a\xCC\xA3\xCC\x81");
  CHECK(combining_class(0x301) == 230);
  CHECK(is_whitespace(0x3000));
  CHECK_FALSE(is_whitespace(0x200B));
}

TEST_CASE("Byte-level map is GPT-2's", "[tokenizer][byte_level]") {
  namespace bl = mechscope::byte_level;
  CHECK(bl::byte_to_chars(' ') == "\xC4\xA0");   // Ġ
  CHECK(bl::byte_to_chars('\n') == "\xC4\x8A");  // Ċ
  CHECK(bl::byte_to_chars('a') == "a");
  CHECK(bl::encode("\xE2\x82\xAC") == "\xC3\xA2\xC4\xA4\xC2\xAC");  // € -> "âĤ¬"
  CHECK(bl::decode("\xC3\xA2\xC4\xA4\xC2\xAC") == "\xE2\x82\xAC");
  CHECK(bl::decode("<|x|>") == "<|x|>");
  CHECK(bl::decode("\xE2\x96\x81") == "\xE2\x96\x81");  // Not in the map: returned unchanged.
}

TEST_CASE("Split behaviours follow HF", "[tokenizer][pre_tokenizer]") {
  using mechscope::SplitBehavior;
  const mechscope::NormalizedString s("a-b--c", 0, 6);
  const auto dashes = mechscope::Pattern::literal("-").find_all(s.text());
  using V = std::vector<std::string>;
  CHECK(texts(split_piece(s, dashes, SplitBehavior::kRemoved)) == V{"a", "b", "c"});
  CHECK(texts(split_piece(s, dashes, SplitBehavior::kIsolated)) == V{"a", "-", "b", "-", "-", "c"});
  CHECK(texts(split_piece(s, dashes, SplitBehavior::kMergedWithPrevious)) ==
        V{"a-", "b-", "-", "c"});
  CHECK(texts(split_piece(s, dashes, SplitBehavior::kMergedWithNext)) == V{"a", "-b", "-", "-c"});
  CHECK(texts(split_piece(s, dashes, SplitBehavior::kContiguous)) == V{"a", "-", "b", "--", "c"});
  CHECK(texts(split_piece(s, dashes, SplitBehavior::kRemoved, true)) == V{"-", "-", "-"});
  // Pieces keep their place in the original text.
  const auto parts = split_piece(s, dashes, SplitBehavior::kRemoved);
  CHECK(parts[2].original_range() == std::make_pair<size_t, size_t>(5, 6));
}

TEST_CASE("Added tokens: leftmost-longest, lstrip/rstrip, single_word", "[tokenizer][added]") {
  mechscope::AddedToken a{10, "<a>"}, ab{11, "<a><b>"}, strip{12, "<m>"}, word{13, "cat"};
  strip.lstrip = strip.rstrip = true;
  word.single_word = true;
  const mechscope::AddedTokenMatcher matcher({&a, &ab, &strip, &word});
  auto m = matcher.find("x<a><b>y<a>");
  REQUIRE(m.size() == 2);
  CHECK(m[0].token->id == 11);
  CHECK((m[0].begin == 1 && m[0].end == 7));
  CHECK(m[1].token->id == 10);
  m = matcher.find("x  <m>  y");
  REQUIRE(m.size() == 1);
  CHECK((m[0].begin == 1 && m[0].end == 8));
  m = matcher.find("cat concat cats cat.");
  REQUIRE(m.size() == 2);
  CHECK(m[0].begin == 0);
  CHECK(m[1].begin == 16);
}
