// Tokenizers from GGUF metadata: llama.cpp's GPT-2 vocabulary test strings, the stories260K GGUF
// against its llama2.c tokenizer.bin, SmolLM2 against Hugging Face ids
// (tests/reference/make_gguf_tokenizer_goldens.py), and bad metadata.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/gguf/gguf_file.h"
#include "core/tokenizer/gguf_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "tests/test_paths.h"

namespace {

using Catch::Matchers::Contains;
using mechscope::test::fixtures_dir;
using Ids = std::vector<int64_t>;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// llama.cpp's test-tokenizer-0 format: each string is followed by "\n__ggml_vocab_test__\n"
// (so a string's own trailing newlines are kept); the .out file has one line of ids per string.
std::vector<std::string> read_vocab_test_strings(const std::filesystem::path& path) {
  const std::string text = read_file(path);
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  for (size_t pos = 0, next; (next = text.find(separator, pos)) != std::string::npos;
       pos = next + separator.size()) {
    out.push_back(text.substr(pos, next - pos));
  }
  return out;
}

std::vector<Ids> read_vocab_test_ids(const std::filesystem::path& path) {
  std::istringstream lines(read_file(path));
  std::vector<Ids> out;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ids(line);
    out.emplace_back();
    for (int64_t id; ids >> id;) out.back().push_back(id);
  }
  return out;
}

// A scratch file, removed when it goes out of scope.
struct ScratchFile {
  std::filesystem::path path;
  ScratchFile(const ScratchFile&) = delete;
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

// Writes small GGUF v3 files (metadata only) for the bad-metadata tests.
class GgufWriter {
 public:
  GgufWriter& string(const std::string& key, const std::string& value) {
    header(key, 8);
    put_string(value);
    return *this;
  }
  GgufWriter& u32(const std::string& key, uint32_t value) {
    header(key, 4);
    put(value);
    return *this;
  }
  GgufWriter& boolean(const std::string& key, bool value) {
    header(key, 7);
    put(static_cast<uint8_t>(value));
    return *this;
  }
  GgufWriter& strings(const std::string& key, const std::vector<std::string>& values) {
    array_header(key, 8, values.size());
    for (const auto& v : values) put_string(v);
    return *this;
  }
  GgufWriter& f32s(const std::string& key, const std::vector<float>& values) {
    array_header(key, 6, values.size());
    for (float v : values) put(v);
    return *this;
  }
  GgufWriter& i32s(const std::string& key, const std::vector<int32_t>& values) {
    array_header(key, 5, values.size());
    for (int32_t v : values) put(v);
    return *this;
  }
  ScratchFile write(const std::string& name) const {
    const auto path = mechscope::test::scratch_path(name);
    std::string file = "GGUF";
    auto append = [&file](const auto& v) {
      file.append(reinterpret_cast<const char*>(&v), sizeof(v));
    };
    append(uint32_t{3});
    append(uint64_t{0});  // tensors
    append(count_);
    file += kvs_;
    file.resize((file.size() + 31) / 32 * 32, '\0');
    std::ofstream(path, std::ios::binary) << file;
    return ScratchFile{path};
  }

 private:
  template <typename T>
  void put(T v) {
    kvs_.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  void put_string(const std::string& s) {
    put(static_cast<uint64_t>(s.size()));
    kvs_ += s;
  }
  void header(const std::string& key, uint32_t type) {
    put_string(key);
    put(type);
    ++count_;
  }
  void array_header(const std::string& key, uint32_t element_type, size_t count) {
    header(key, 9);
    put(element_type);
    put(static_cast<uint64_t>(count));
  }
  std::string kvs_;
  uint64_t count_ = 0;
};

// A tiny SentencePiece vocabulary: <unk>, <s>, </s>, a control and a user-defined token, the 256
// byte tokens, then pieces.
GgufWriter tiny_llama_vocab() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<|ctrl|>", "<user>"};
  std::vector<int32_t> types = {2, 3, 3, 3, 4};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);
  }
  for (const char* piece : {"\xE2\x96\x81", "h", "i", "\xE2\x96\x81h", "\xE2\x96\x81hi"}) {
    tokens.push_back(piece);
    types.push_back(1);
  }
  std::vector<float> scores(tokens.size(), 0.0f);
  scores[tokens.size() - 2] = -1;  // "▁h"
  scores[tokens.size() - 1] = -2;  // "▁hi"
  GgufWriter w;
  w.string("tokenizer.ggml.model", "llama")
      .strings("tokenizer.ggml.tokens", tokens)
      .f32s("tokenizer.ggml.scores", scores)
      .i32s("tokenizer.ggml.token_type", types);
  return w;
}

// A tiny byte-level BPE vocabulary: "a", "b", "ab", "Ġ", "Ġab" and a control token.
GgufWriter tiny_gpt2_vocab(const std::vector<std::string>& merges = {"a b", "Ġ ab"}) {
  GgufWriter w;
  w.string("tokenizer.ggml.model", "gpt2")
      .string("tokenizer.ggml.pre", "gpt-2")
      .strings("tokenizer.ggml.tokens", {"a", "b", "ab", "\xC4\xA0",
                                         "\xC4\xA0"
                                         "ab",
                                         "<|end|>"})
      .i32s("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 3})
      .strings("tokenizer.ggml.merges", merges);
  return w;
}

std::unique_ptr<mechscope::Tokenizer> load(const std::filesystem::path& path) {
  return mechscope::load_gguf_tokenizer(mechscope::gguf::File(path));
}

}  // namespace

TEST_CASE("GGUF GPT-2 vocabulary passes llama.cpp's tokenizer test strings", "[tokenizer][gguf]") {
  const auto gguf = fixtures_dir() / "gpt2" / "ggml-vocab-gpt-2.gguf";
  if (!std::filesystem::exists(gguf)) {
    WARN("Skipping: the shared fixture " << gguf << " is not present");
    return;
  }
  auto tok = mechscope::load_tokenizer(gguf);  // Chosen by the .gguf extension.
  CHECK(tok->vocab_size() == 50257);
  CHECK(tok->bos_id() == 50256);
  CHECK(tok->eos_id() == 50256);
  const auto info = mechscope::read_gguf_tokenizer_info(mechscope::gguf::File(gguf));
  CHECK(info.model == "gpt2");
  CHECK(info.pre == "gpt-2");
  CHECK(info.pre_regexes == "gpt2");
  CHECK_FALSE(info.add_bos);
  CHECK(info.warnings.empty());

  const auto strings = read_vocab_test_strings(gguf.string() + ".inp");
  const auto expected = read_vocab_test_ids(gguf.string() + ".out");
  REQUIRE(strings.size() == 46);
  REQUIRE(expected.size() == strings.size());
  size_t matched = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    INFO("string " << i << ": '" << strings[i] << "'");
    const auto enc = tok->encode(strings[i], false);
    CHECK(enc.ids == expected[i]);
    CHECK(tok->decode(enc.ids) == strings[i]);
    matched += enc.ids == expected[i];
  }
  CHECK(matched == strings.size());
  // add_special_tokens adds nothing (add_bos_token is false); <|endoftext|> is recognised.
  CHECK(tok->encode("Hello", true).ids == Ids{15496});
  CHECK(tok->encode("Hello<|endoftext|>", false).ids == Ids{15496, 50256});
}

TEST_CASE("GGUF SentencePiece vocabulary matches the llama2.c tokenizer", "[tokenizer][gguf]") {
  const auto gguf = fixtures_dir() / "gguf" / "tinyllamas-stories-260k-f32.gguf";
  const auto bin = fixtures_dir() / "stories260K" / "tok512.bin";
  if (!std::filesystem::exists(gguf) || !std::filesystem::exists(bin)) {
    WARN("Skipping: the shared fixtures " << gguf << " and " << bin << " are not present");
    return;
  }
  auto tok = mechscope::load_tokenizer(gguf);
  auto reference = mechscope::load_tokenizer(bin, 512);
  REQUIRE(tok->vocab_size() == 512);
  CHECK(tok->bos_id() == 1);
  CHECK(tok->eos_id() == 2);
  const auto info = mechscope::read_gguf_tokenizer_info(mechscope::gguf::File(gguf));
  CHECK(info.model == "llama");
  CHECK(info.add_bos);
  CHECK(info.add_space_prefix);
  CHECK(info.pad_id == 0);
  CHECK(info.chat_template.empty());

  const std::vector<std::string> sentences = {
      "Once upon a time, there was a little girl named Lily.",
      "She loved to play outside in the park.",
      "  two leading spaces, and  double  spaces inside  ",
      "Lines\nwith\n\nnewlines\tand tabs",
      "Numbers 12345 and 3.14, punctuation!?;:",
      "Unicode: caf\xC3\xA9, \xE6\x88\x91, \xF0\x9F\x98\x80 and \xC3\x9F",
      "x",
      " ",
      "",
  };
  for (const auto& s : sentences) {
    INFO("text: '" << s << "'");
    const auto enc = tok->encode(s);
    CHECK(enc.ids == reference->encode(s).ids);
    CHECK(enc.offsets == reference->encode(s).offsets);
    CHECK(tok->encode(s, false).ids == reference->encode(s, false).ids);
    CHECK(tok->decode(enc.ids, true) == s);
  }
  // Same tokens, different spelling of the space: "▁the" in GGUF, " the" in llama2.c.
  const int64_t the = *reference->token_to_id(" the");
  CHECK(tok->token_string(the) == "\xE2\x96\x81the");
  CHECK(tok->token_text(the) == " the");
  CHECK(tok->token_text(3 + 0x41) == "A");
  // Control tokens written in the text are recognised (llama2.c reads them as plain text).
  CHECK(tok->encode("<s>Once", false).ids == tok->encode("Once", true).ids);
  CHECK(tok->decode(tok->encode("Once</s>", false).ids) == "Once</s>");
}

TEST_CASE("GGUF SmolLM2 tokenizer matches Hugging Face", "[tokenizer][gguf]") {
  const auto gguf =
      mechscope::test::source_dir() / ".models" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf";
  if (!std::filesystem::exists(gguf)) {
    WARN("Skipping: " << gguf
                      << " is not present (see tests/reference/make_gguf_tokenizer_goldens.py)");
    return;
  }
  const mechscope::gguf::File file(gguf);
  auto tok = mechscope::load_gguf_tokenizer(file);
  const auto info = mechscope::read_gguf_tokenizer_info(file);
  CHECK(info.model == "gpt2");
  CHECK(info.pre == "smollm");
  CHECK(info.pre_regexes == "starcoder");
  CHECK(info.bos_id == 1);
  CHECK(info.eos_id == 2);
  CHECK(info.unk_id == 0);
  CHECK(info.pad_id == 2);
  CHECK_FALSE(info.add_bos);
  CHECK_THAT(info.chat_template, Contains("<|im_start|>"));
  CHECK(info.warnings.empty());

  const auto golden = nlohmann::json::parse(
      read_file(mechscope::test::golden_dir() / "tokenizers" / "smollm2_gguf" / "cases.json"));
  CHECK(tok->vocab_size() == golden["vocab_size"].get<int64_t>());
  const auto& cases = golden["cases"];
  REQUIRE(cases.size() >= 20);
  for (const auto& c : cases) {
    const std::string text = c["text"].get<std::string>();
    INFO("text: '" << text << "'");
    const auto enc = tok->encode(text, false);
    CHECK(enc.ids == c["ids"].get<Ids>());
    CHECK(tok->encode(text).ids == enc.ids);  // add_bos_token is false.
    CHECK(tok->decode(enc.ids) == text);
  }
  CHECK(tok->token_text(*tok->token_to_id("<|im_start|>")) == "<|im_start|>");
  CHECK(tok->decode({1, 4093, 2}, true) == "user");
}

TEST_CASE("GGUF tokenizers: special tokens, byte fallback and options", "[tokenizer][gguf]") {
  SECTION("SentencePiece") {
    const auto file = tiny_llama_vocab().write("tiny_llama");
    auto tok = load(file.path);
    const int64_t space = 261, h = 262, i = 263, space_h = 264, space_hi = 265;
    CHECK(tok->encode("hi").ids == Ids{1, space_hi});
    CHECK(tok->encode("hi", false).ids == Ids{space_hi});
    // Control and user-defined tokens are cut out of the text; each fragment gets the prefix.
    CHECK(tok->encode("hi<|ctrl|>hi<user>ih", false).ids ==
          Ids{space_hi, 3, space_hi, 4, space, i, h});
    // Characters not in the vocabulary fall back to byte tokens.
    CHECK(tok->encode("h\xC3\xA9", false).ids == Ids{space_h, 5 + 0xC3, 5 + 0xA9});
    CHECK(tok->decode(tok->encode("hi<|ctrl|>hi h\xC3\xA9").ids, true) == "hihi h\xC3\xA9");
    CHECK(tok->decode({1, space_hi, 3, space_hi}) == "<s>hi<|ctrl|>hi");
    CHECK(tok->token_to_id("<user>") == 4);
  }
  SECTION("SentencePiece without the space prefix, with EOS") {
    auto w = tiny_llama_vocab();
    w.boolean("tokenizer.ggml.add_space_prefix", false)
        .boolean("tokenizer.ggml.add_bos_token", false)
        .boolean("tokenizer.ggml.add_eos_token", true);
    const auto file = w.write("tiny_llama_options");
    auto tok = load(file.path);
    CHECK(tok->encode("hi").ids == Ids{262, 263, 2});
    CHECK(tok->encode(" hi").ids == Ids{265, 2});
    CHECK(tok->decode({265}) == " hi");
  }
  SECTION("byte-level BPE") {
    auto w = tiny_gpt2_vocab();
    w.u32("tokenizer.ggml.eos_token_id", 5).string("tokenizer.chat_template", "{{ messages }}");
    const auto file = w.write("tiny_gpt2");
    auto tok = load(file.path);
    CHECK(tok->encode("ab ab<|end|>").ids == Ids{2, 4, 5});
    CHECK(tok->decode({2, 4, 5}, true) == "ab ab");
    CHECK(tok->eos_id() == 5);
    CHECK_FALSE(tok->bos_id());
    const auto info = mechscope::read_gguf_tokenizer_info(mechscope::gguf::File(file.path));
    CHECK(info.chat_template == "{{ messages }}");
  }
  SECTION("an unknown pre-tokenizer falls back to llama.cpp's default with a warning") {
    GgufWriter w;
    w.string("tokenizer.ggml.model", "gpt2")
        .string("tokenizer.ggml.pre", "no-such-pre")
        .strings("tokenizer.ggml.tokens", {"a", "b", "ab"})
        .strings("tokenizer.ggml.merges", {"a b"});
    const auto file = w.write("tiny_pre");
    const auto info = mechscope::read_gguf_tokenizer_info(mechscope::gguf::File(file.path));
    CHECK(info.pre_regexes == "default");
    REQUIRE(info.warnings.size() == 1);
    CHECK_THAT(info.warnings[0], Contains("no-such-pre"));
    CHECK(load(file.path)->encode("ab").ids == Ids{2});
  }
  SECTION("llama-bpe adds BOS by default and ignores merges for whole tokens") {
    GgufWriter w;
    w.string("tokenizer.ggml.model", "gpt2")
        .string("tokenizer.ggml.pre", "llama-bpe")
        .strings("tokenizer.ggml.tokens", {"a", "b", "ab", "<|begin_of_text|>"})
        .i32s("tokenizer.ggml.token_type", {1, 1, 1, 3})
        .strings("tokenizer.ggml.merges", {"a b"})
        .u32("tokenizer.ggml.bos_token_id", 3);
    const auto file = w.write("tiny_llama3");
    auto tok = load(file.path);
    CHECK(tok->encode("ab").ids == Ids{3, 2});
  }
}

TEST_CASE("GGUF tokenizers: bad metadata gives clear errors", "[tokenizer][gguf]") {
  auto refuses = [](const GgufWriter& w, const std::string& name, const std::string& message) {
    const auto file = w.write(name);
    INFO("case " << name);
    CHECK_THROWS_AS(load(file.path), mechscope::Error);
    CHECK_THROWS_WITH(load(file.path), Contains(file.path.string()) && Contains(message));
  };
  refuses(GgufWriter().string("general.name", "x"), "no_model", "tokenizer.ggml.model");
  refuses(
      GgufWriter().string("tokenizer.ggml.model", "bert").strings("tokenizer.ggml.tokens", {"a"}),
      "bert", "'bert'");
  refuses(GgufWriter().string("tokenizer.ggml.model", "llama"), "no_tokens",
          "tokenizer.ggml.tokens");
  refuses(GgufWriter().string("tokenizer.ggml.model", "llama").i32s("tokenizer.ggml.tokens", {1}),
          "int_tokens", "tokenizer.ggml.tokens");

  GgufWriter no_scores;
  no_scores.string("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", {"a", "b"});
  refuses(no_scores, "no_scores", "tokenizer.ggml.scores");
  GgufWriter short_scores = no_scores;
  short_scores.f32s("tokenizer.ggml.scores", {0.0f}).i32s("tokenizer.ggml.token_type", {1, 1});
  refuses(short_scores, "short_scores", "1 entries in tokenizer.ggml.scores but 2 tokens");
  GgufWriter bad_type = no_scores;
  bad_type.f32s("tokenizer.ggml.scores", {0, 0}).i32s("tokenizer.ggml.token_type", {1, 9});
  refuses(bad_type, "bad_type", "unknown token type 9");
  GgufWriter short_types = no_scores;
  short_types.f32s("tokenizer.ggml.scores", {0, 0}).i32s("tokenizer.ggml.token_type", {1});
  refuses(short_types, "short_types", "tokenizer.ggml.token_type");

  refuses(tiny_llama_vocab().u32("tokenizer.ggml.bos_token_id", 100000), "bad_bos",
          "tokenizer.ggml.bos_token_id = 100000");
  refuses(tiny_llama_vocab().u32("tokenizer.ggml.padding_token_id", 4000), "bad_pad",
          "tokenizer.ggml.padding_token_id");

  refuses(tiny_gpt2_vocab({"a b", "a c"}), "unknown_merge", "'c'");
  refuses(tiny_gpt2_vocab({"b b"}), "merge_result", "'bb'");
  refuses(tiny_gpt2_vocab({"ab"}), "merge_no_space", "not two tokens");
  GgufWriter no_merges;
  no_merges.string("tokenizer.ggml.model", "gpt2").strings("tokenizer.ggml.tokens", {"a"});
  refuses(no_merges, "no_merges", "tokenizer.ggml.merges");
  GgufWriter duplicate;
  duplicate.string("tokenizer.ggml.model", "gpt2")
      .strings("tokenizer.ggml.tokens", {"a", "b", "a"})
      .strings("tokenizer.ggml.merges", {});
  refuses(duplicate, "duplicate", "twice");
  refuses(GgufWriter().string("tokenizer.ggml.model", "gpt2").strings("tokenizer.ggml.tokens", {}),
          "empty_tokens", "empty token list");
}
