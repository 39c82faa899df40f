// HF tokenizer.json families against goldens made by the Python `tokenizers` library
// (tests/reference/make_tokenizer_goldens.py): ids, byte offsets and decoded text must agree.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/tokenizer/tokenizer.h"
#include "tests/test_paths.h"

namespace {

using Offsets = std::vector<std::pair<size_t, size_t>>;

nlohmann::json read_cases(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in)["cases"];
}

Offsets to_offsets(const nlohmann::json& j) {
  Offsets out;
  for (const auto& o : j) out.emplace_back(o[0].get<size_t>(), o[1].get<size_t>());
  return out;
}

void check_family(const std::string& name) {
  const auto dir = mechscope::test::golden_dir() / "tokenizers" / name;
  REQUIRE(std::filesystem::exists(dir / "cases.json"));
  auto tok = mechscope::load_tokenizer(dir / "tokenizer.json");
  const auto cases = read_cases(dir / "cases.json");
  REQUIRE(cases.size() > 20);
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    INFO(name << ": '" << text << "', HF tokens " << c["tokens"].dump());
    const auto enc = tok->encode(text);
    CHECK(enc.ids == c["ids"].get<std::vector<int64_t>>());
    CHECK(enc.offsets == to_offsets(c["offsets"]));
    CHECK(tok->encode(text, false).ids == c["ids_no_special"].get<std::vector<int64_t>>());
    CHECK(tok->decode(enc.ids) == c["decoded"].get<std::string>());
    CHECK(tok->decode(enc.ids, true) == c["decoded_skip_special"].get<std::string>());
    for (size_t i = 0; i < enc.ids.size() && i < c["tokens"].size(); ++i) {
      // HF reports an lstrip/rstrip added token by the text it matched (" <mask>").
      std::string hf_token = c["tokens"][i].get<std::string>();
      if (tok->token_to_id(hf_token) != enc.ids[i]) {
        hf_token.erase(0, hf_token.find_first_not_of(' '));
        hf_token.erase(hf_token.find_last_not_of(' ') + 1);
      }
      CHECK(tok->token_string(enc.ids[i]) == hf_token);
    }
  }
}

}  // namespace

TEST_CASE("Llama-3-style byte-level BPE (split regex, ignore_merges, BOS template)",
          "[tokenizer][hf]") {
  check_family("llama3_bpe");
  auto tok = mechscope::load_tokenizer(mechscope::test::golden_dir() / "tokenizers" / "llama3_bpe" /
                                       "tokenizer.json");
  CHECK(tok->bos_id() == tok->token_to_id("<|begin_of_text|>"));
  CHECK(tok->eos_id() == tok->token_to_id("<|end_of_text|>"));
  // ignore_merges: a word that is itself in the vocabulary is one token.
  const auto enc = tok->encode(" tokenization", false);
  REQUIRE(enc.ids.size() == 1);
  CHECK(tok->token_text(enc.ids[0]) == " tokenization");
}

TEST_CASE("Qwen2-style byte-level BPE (NFC, ChatML special tokens)", "[tokenizer][hf]") {
  check_family("qwen2_bpe");
  auto tok = mechscope::load_tokenizer(mechscope::test::golden_dir() / "tokenizers" / "qwen2_bpe" /
                                       "tokenizer.json");
  CHECK_FALSE(tok->bos_id().has_value());  // tokenizer_config.json: "bos_token": null.
  CHECK(tok->eos_id() == tok->token_to_id("<|endoftext|>"));
  const auto enc = tok->encode("<|im_start|>user", true);
  CHECK(enc.ids.front() == tok->token_to_id("<|im_start|>"));
}

TEST_CASE("Llama-2-style SentencePiece BPE (Prepend/Replace, byte fallback)", "[tokenizer][hf]") {
  check_family("llama2_sentencepiece");
  auto tok = mechscope::load_tokenizer(mechscope::test::golden_dir() / "tokenizers" /
                                       "llama2_sentencepiece" / "tokenizer.json");
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  // Byte fallback: a character outside the vocabulary becomes its UTF-8 bytes, each token
  // reporting the whole character's range; they decode back to the character.
  const std::string rocket = "\xF0\x9F\x9A\x80";
  const auto enc = tok->encode(rocket, false);
  std::vector<int64_t> expected_ids;
  for (const char* b : {"<0xF0>", "<0x9F>", "<0x9A>", "<0x80>"}) {
    expected_ids.push_back(tok->token_to_id(b).value_or(-1));
  }
  REQUIRE(enc.ids.size() == 5);  // "▁" then the four bytes.
  CHECK(std::vector<int64_t>(enc.ids.begin() + 1, enc.ids.end()) == expected_ids);
  for (size_t i = 1; i < 5; ++i) CHECK(enc.offsets[i] == std::make_pair<size_t, size_t>(0, 4));
  CHECK(tok->decode(enc.ids) == rocket);
  CHECK(tok->token_text(expected_ids[0]) == "\xEF\xBF\xBD");  // A lone lead byte.
  // For display, a token keeps its leading space; decoding a text drops the prepended one.
  const auto the = tok->token_to_id("\xE2\x96\x81the");
  REQUIRE(the.has_value());
  CHECK(tok->token_text(*the) == " the");
  CHECK(tok->decode({*the}) == "the");
}

TEST_CASE("Metaspace pre-tokenizer BPE (prepend_scheme first, byte fallback)", "[tokenizer][hf]") {
  check_family("metaspace_bpe");
}

TEST_CASE("Metaspace BPE without byte fallback (fused unknown tokens)", "[tokenizer][hf]") {
  check_family("metaspace_unk");
}

TEST_CASE("WordLevel with WhitespaceSplit and Lowercase", "[tokenizer][hf]") {
  check_family("wordlevel");
}

TEST_CASE("WordLevel with Whitespace and a single-word added token", "[tokenizer][hf]") {
  check_family("wordlevel_whitespace");
}

TEST_CASE("tokenizer_config.json add_bos_token / add_eos_token override the template",
          "[tokenizer][hf]") {
  const auto golden = mechscope::test::golden_dir() / "tokenizers";
  const auto dir = mechscope::test::scratch_path("test_tokenizer_config");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "no_bos.json") << R"({"add_bos_token": false, "add_eos_token": true,
                                            "bos_token": "<s>", "eos_token": "</s>"})";
  auto tok = mechscope::load_hf_tokenizer(golden / "llama2_sentencepiece" / "tokenizer.json",
                                          dir / "no_bos.json");
  const auto enc = tok->encode("Hello world");
  REQUIRE(enc.ids.size() >= 2);
  CHECK(enc.ids.front() != 1);  // The template's <s> is dropped...
  CHECK(enc.ids.back() == 2);   // ...and </s> appended, with an empty range.
  CHECK(enc.offsets.back() == std::make_pair<size_t, size_t>(0, 0));
  CHECK(tok->encode("Hello world", false).ids ==
        std::vector<int64_t>(enc.ids.begin(), enc.ids.end() - 1));
  std::filesystem::remove_all(dir);
}
