#include "core/tokenizer/gguf_tokenizer.h"

#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/gguf/gguf_file.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/llama2c_tokenizer.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

// A byte-level BPE pre-tokenizer of llama.cpp (llama-vocab.cpp's llm_tokenizer_bpe): regexes
// applied one after the other, each splitting the pieces of the previous one and keeping both
// the matches and the text between them.
struct PreTokenizerSpec {
  std::vector<std::string> regexes;
  bool ignore_merges = false;  // A piece that is itself a token is not merged (Llama 3).
  bool add_bos = false;        // llama.cpp's add_bos default for this pre-tokenizer.
};

// The Llama 3 regex, with llama.cpp's case-insensitive contractions spelled out; `digits` is how
// many digits a number piece may hold ("{1,3}" for Llama 3, "" for Qwen2's single digits).
std::string llama3_regex(const std::string& digits) {
  return R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N})" +
         digits + R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

// The pre-tokenizers by llama.cpp's family name.
const std::map<std::string, PreTokenizerSpec>& pre_tokenizer_families() {
  static const std::map<std::string, PreTokenizerSpec> families = {
      {"default", {{R"([\p{P}\$\+<=>\^~\|]+)", kGpt2SplitRegex, R"(\p{N}+)", "[0-9][0-9][0-9]"}}},
      {"gpt2", {{kGpt2SplitRegex}}},
      {"llama3", {{llama3_regex("{1,3}")}, true, true}},
      {"dbrx", {{llama3_regex("{1,3}")}}},
      {"qwen2", {{llama3_regex("")}}},
      {"starcoder", {{R"(\p{N})", kGpt2SplitRegex}}},
      {"falcon", {{R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2SplitRegex, "[0-9][0-9][0-9]"}}},
      {"deepseek-coder",
       {{"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[一-龥ࠀ-一가-퟿]+", R"(\p{N})"}}},
      {"bloom", {{R"( ?[^(\s|.,!?…。，、।۔،)]+)"}}},
      {"viking", {{R"( ?[^(\s|.,!?…。，、।۔،)]+)", R"(\p{N})"}}},
  };
  return families;
}

// `tokenizer.ggml.pre` values and their family, as llama.cpp's llama_vocab::impl::load maps them.
const std::string* pre_tokenizer_family(const std::string& pre) {
  static const std::map<std::string, std::string> names = [] {
    const std::vector<std::pair<std::string, std::vector<const char*>>> groups = {
        {"default", {"default"}},
        {"llama3",
         {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0",
          "lfm2"}},
        {"dbrx", {"dbrx", "smaug-bpe"}},
        {"gpt2",
         {"gpt-2",
          "gpt2",
          "mpt",
          "phi-2",
          "olmo",
          "jais",
          "trillion",
          "jina-es",
          "jina-de",
          "gigachat",
          "jina-v1-en",
          "jina-v2-es",
          "jina-v2-de",
          "jina-v2-code",
          "roberta-bpe",
          "exaone4",
          "granite-docling",
          "a.x-4.0",
          "mellum",
          "modern-bert"}},
        {"qwen2",
         {"qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan", "solar-open",
          "grok-2"}},
        {"starcoder",
         {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}},
        {"falcon", {"falcon"}},
        {"deepseek-coder", {"deepseek-coder"}},
        {"bloom", {"bloom", "poro-chat", "gpt3-finnish"}},
        {"viking", {"viking"}},
    };
    std::map<std::string, std::string> out;
    for (const auto& [family, aliases] : groups) {
      for (const char* alias : aliases) out.emplace(alias, family);
    }
    return out;
  }();
  auto it = names.find(pre);
  return it == names.end() ? nullptr : &it->second;
}

class MetadataReader {
 public:
  explicit MetadataReader(const gguf::File& file) : file_(file), where_(file.path().string()) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error("The GGUF file " + where_ + " " + problem + ".");
  }
  const gguf::File& file() const { return file_; }
  const std::string& where() const { return where_; }

  // tokenizer.ggml.model, checked first: a file without a tokenizer says so.
  std::string model() const {
    if (!file_.has("tokenizer.ggml.model")) fail("has no tokenizer (tokenizer.ggml.model)");
    std::string model = file_.string("tokenizer.ggml.model");
    if (model != "llama" && model != "gpt2") {
      fail("uses the tokenizer model '" + model +
           "'; mechscope reads only 'llama' (SentencePiece) and 'gpt2' (byte-level BPE) "
           "tokenizers");
    }
    return model;
  }

  std::vector<std::string> tokens() const {
    if (!file_.has("tokenizer.ggml.tokens")) fail("has no tokenizer (tokenizer.ggml.tokens)");
    auto tokens = file_.strings("tokenizer.ggml.tokens");
    if (tokens.empty()) fail("has an empty token list (tokenizer.ggml.tokens)");
    return tokens;
  }

  // An id key: absent -> `fallback`; present -> checked against the vocabulary size.
  std::optional<int64_t> id(const std::string& key, int64_t vocab_size,
                            std::optional<int64_t> fallback) const {
    if (!file_.has(key)) return fallback && *fallback < vocab_size ? fallback : std::nullopt;
    const int64_t value = file_.integer(key);
    if (value < 0 || value >= vocab_size) {
      fail("gives " + key + " = " + std::to_string(value) + ", outside its vocabulary of " +
           std::to_string(vocab_size) + " tokens");
    }
    return value;
  }

  void require(const std::string& key, const std::string& why) const {
    if (!file_.has(key)) fail("has no " + key + ", which " + why);
  }
  // Per-token arrays must have one entry per token.
  void check_count(const std::string& key, size_t count, size_t vocab_size) const {
    if (count != vocab_size) {
      fail("has " + std::to_string(count) + " entries in " + key + " but " +
           std::to_string(vocab_size) + " tokens");
    }
  }

  std::vector<SpmTokenType> token_types(size_t vocab_size) const {
    const std::string key = "tokenizer.ggml.token_type";
    require(key, "a SentencePiece vocabulary needs");
    const std::vector<int64_t> raw = file_.integers(key);
    check_count(key, raw.size(), vocab_size);
    std::vector<SpmTokenType> types;
    types.reserve(raw.size());
    for (size_t id = 0; id < raw.size(); ++id) {
      if (raw[id] < 0 || raw[id] > static_cast<int64_t>(SpmTokenType::kByte)) {
        fail("gives token " + std::to_string(id) + " the unknown token type " +
             std::to_string(raw[id]) + " (tokenizer.ggml.token_type holds 0-6)");
      }
      types.push_back(static_cast<SpmTokenType>(raw[id]));
    }
    return types;
  }

 private:
  const gguf::File& file_;
  std::string where_;
};

// Picks the pre-tokenizer for `info.pre` (gpt2 models), falling back to llama.cpp's default with
// a warning for a missing or unknown value, as llama.cpp does.
const PreTokenizerSpec& choose_pre_tokenizer(GgufTokenizerInfo& info, const std::string& where) {
  const std::string* family = pre_tokenizer_family(info.pre);
  if (family == nullptr) {
    info.warnings.push_back(
        "The GGUF file " + where +
        (info.pre.empty()
             ? std::string(" names no pre-tokenizer (tokenizer.ggml.pre)")
             : " names the pre-tokenizer '" + info.pre + "', which mechscope does not know") +
        "; using llama.cpp's default split regexes, so tokens may differ from the original "
        "tokenizer.");
    static const std::string kDefault = "default";
    family = &kDefault;
  }
  info.pre_regexes = *family;
  return pre_tokenizer_families().at(*family);
}

// The Hugging Face tokenizer.json equivalent to a gpt2-type GGUF vocabulary.
nlohmann::json bpe_tokenizer_json(const MetadataReader& meta,
                                  const std::vector<std::string>& tokens,
                                  const std::vector<SpmTokenType>& types,
                                  const PreTokenizerSpec& pre) {
  nlohmann::json vocab = nlohmann::json::object();
  nlohmann::json added = nlohmann::json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (vocab.contains(tokens[id])) {
      meta.fail("has the token '" + tokens[id] + "' twice (ids " +
                std::to_string(vocab[tokens[id]].get<int64_t>()) + " and " + std::to_string(id) +
                ")");
    }
    vocab[tokens[id]] = id;
    const SpmTokenType type = types[id];
    if (type == SpmTokenType::kControl || type == SpmTokenType::kUnknown ||
        type == SpmTokenType::kUserDefined) {
      added.push_back({{"id", id},
                       {"content", tokens[id]},
                       {"special", type != SpmTokenType::kUserDefined},
                       {"normalized", false}});
    }
  }

  meta.require("tokenizer.ggml.merges", "a gpt2 (BPE) tokenizer needs");
  const std::vector<std::string> merge_lines = meta.file().strings("tokenizer.ggml.merges");
  nlohmann::json merges = nlohmann::json::array();
  for (size_t i = 0; i < merge_lines.size(); ++i) {
    const std::string& line = merge_lines[i];
    const size_t space = line.find(' ', 1);  // As llama.cpp: a part may not be empty.
    if (space == std::string::npos) {
      meta.fail("has the BPE merge " + std::to_string(i) + " ('" + line +
                "'), which is not two tokens separated by a space");
    }
    std::string left = line.substr(0, space), right = line.substr(space + 1);
    for (const std::string& part : {left, right, left + right}) {
      if (!vocab.contains(part)) {
        meta.fail("has the BPE merge " + std::to_string(i) + " ('" + line + "') involving '" +
                  part + "', which is not in its vocabulary");
      }
    }
    merges.push_back({std::move(left), std::move(right)});
  }

  nlohmann::json splits = nlohmann::json::array();
  for (const std::string& regex : pre.regexes) {
    splits.push_back({{"type", "Split"},
                      {"pattern", {{"Regex", regex}}},
                      {"behavior", "Isolated"},
                      {"invert", false}});
  }
  splits.push_back({{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}});
  return {{"model",
           {{"type", "BPE"},
            {"vocab", std::move(vocab)},
            {"merges", std::move(merges)},
            {"ignore_merges", pre.ignore_merges}}},
          {"added_tokens", std::move(added)},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", std::move(splits)}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}}};
}

std::unique_ptr<Tokenizer> load_bpe(const MetadataReader& meta, const GgufTokenizerInfo& info,
                                    std::vector<std::string> tokens) {
  // Token types are optional here: without them every token is normal (llama.cpp).
  const std::vector<SpmTokenType> types =
      meta.file().has("tokenizer.ggml.token_type")
          ? meta.token_types(tokens.size())
          : std::vector<SpmTokenType>(tokens.size(), SpmTokenType::kNormal);
  const PreTokenizerSpec& pre = pre_tokenizer_families().at(info.pre_regexes);
  // BOS/EOS and whether to add them, as tokenizer_config.json would say it.
  auto name = [&tokens](const std::optional<int64_t>& id) -> nlohmann::json {
    return id ? nlohmann::json(tokens[*id]) : nlohmann::json(nullptr);
  };
  const nlohmann::json config = {{"bos_token", name(info.bos_id)},
                                 {"eos_token", name(info.eos_id)},
                                 {"add_bos_token", info.add_bos},
                                 {"add_eos_token", info.add_eos}};
  try {
    return std::make_unique<HfTokenizer>(bpe_tokenizer_json(meta, tokens, types, pre), config,
                                         meta.where());
  } catch (const nlohmann::json::exception& e) {
    meta.fail(std::string("has a tokenizer that cannot be built: ") + e.what());
  }
}

std::unique_ptr<Tokenizer> load_spm(const MetadataReader& meta, const GgufTokenizerInfo& info,
                                    std::vector<std::string> tokens) {
  SpmVocab vocab;
  meta.require("tokenizer.ggml.scores", "a SentencePiece vocabulary needs");
  const std::vector<double> scores = meta.file().numbers("tokenizer.ggml.scores");
  meta.check_count("tokenizer.ggml.scores", scores.size(), tokens.size());
  vocab.scores.assign(scores.begin(), scores.end());
  vocab.types = meta.token_types(tokens.size());
  vocab.pieces = std::move(tokens);
  vocab.space = "\xE2\x96\x81";  // "▁"
  vocab.add_space_prefix = info.add_space_prefix;
  vocab.match_special = true;
  vocab.bos = info.bos_id;
  vocab.eos = info.eos_id;
  vocab.unk = info.unk_id;
  vocab.add_bos = info.add_bos;
  vocab.add_eos = info.add_eos;
  return std::make_unique<SpmTokenizer>(std::move(vocab));
}

// The metadata besides the vocabulary of `meta`'s file, whose vocabulary has `vocab_size` tokens.
GgufTokenizerInfo read_info(const MetadataReader& meta, int64_t vocab_size) {
  const gguf::File& file = meta.file();
  GgufTokenizerInfo info;
  info.model = meta.model();
  const bool spm = info.model == "llama";
  info.pre = file.string("tokenizer.ggml.pre", "");
  info.chat_template = file.string("tokenizer.chat_template", "");
  info.vocab_size = vocab_size;

  // llama.cpp's defaults: SentencePiece vocabularies have <unk>=0, BOS=1, EOS=2 and add BOS.
  const int64_t n = info.vocab_size;
  const auto maybe = [spm](int64_t id) { return spm ? std::optional<int64_t>(id) : std::nullopt; };
  info.bos_id = meta.id("tokenizer.ggml.bos_token_id", n, maybe(1));
  info.eos_id = meta.id("tokenizer.ggml.eos_token_id", n, maybe(2));
  info.unk_id = meta.id("tokenizer.ggml.unknown_token_id", n, maybe(0));
  info.pad_id = meta.id("tokenizer.ggml.padding_token_id", n, std::nullopt);
  bool default_add_bos = true;
  if (!spm) default_add_bos = choose_pre_tokenizer(info, meta.where()).add_bos;
  info.add_bos = file.boolean("tokenizer.ggml.add_bos_token", default_add_bos);
  info.add_eos = file.boolean("tokenizer.ggml.add_eos_token", false);
  info.add_space_prefix = spm && file.boolean("tokenizer.ggml.add_space_prefix", true);
  if (info.add_bos && !info.bos_id) {
    info.warnings.push_back("The GGUF file " + meta.where() +
                            " asks for a BOS token (add_bos_token) but names none; none is added.");
    info.add_bos = false;
  }
  if (info.add_eos && !info.eos_id) {
    info.warnings.push_back(
        "The GGUF file " + meta.where() +
        " asks for an EOS token (add_eos_token) but names none; none is added.");
    info.add_eos = false;
  }
  return info;
}

}  // namespace

GgufTokenizerInfo read_gguf_tokenizer_info(const gguf::File& file) {
  const MetadataReader meta(file);
  meta.model();  // Checked before the tokens, so that a file without a tokenizer says so.
  return read_info(meta, static_cast<int64_t>(meta.tokens().size()));
}

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const gguf::File& file) {
  const MetadataReader meta(file);
  meta.model();  // Checked before the tokens, so that a file without a tokenizer says so.
  std::vector<std::string> tokens = meta.tokens();
  const GgufTokenizerInfo info = read_info(meta, static_cast<int64_t>(tokens.size()));
  if (info.model == "llama") return load_spm(meta, info, std::move(tokens));
  return load_bpe(meta, info, std::move(tokens));
}

}  // namespace mechscope
