#include "probes/tasks/vocabulary.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/util/error.h"
#include "probes/tasks/task.h"

namespace mechscope::tasks {

namespace {

void write_json(const std::filesystem::path& path, const nlohmann::ordered_json& json) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("Cannot open " + path.string() + " for writing.");
  out << json.dump(2) << '\n';
  if (!out) throw Error("Cannot write " + path.string() + ".");
}

}  // namespace

const std::vector<std::string>& special_tokens() {
  static const std::vector<std::string> s = {"<pad>", "<bos>", "<eos>", "<unk>", "<image>"};
  return s;
}

std::vector<std::string> project_vocabulary() {
  const auto& specials = special_tokens();
  std::set<std::string> words;
  for (const auto& task : all_tasks()) {
    for (const auto& w : task->vocabulary()) {
      if (w.empty() || std::any_of(w.begin(), w.end(), [](unsigned char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
          })) {
        throw Error("The task '" + task->name() + "' has the word '" + w +
                    "', which is empty or contains whitespace.");
      }
      if (std::find(specials.begin(), specials.end(), w) == specials.end()) words.insert(w);
    }
  }
  std::vector<std::string> vocab = specials;
  vocab.insert(vocab.end(), words.begin(), words.end());
  return vocab;
}

void write_word_level_tokenizer(const std::filesystem::path& tokenizer_json,
                                const std::vector<std::string>& vocab) {
  const auto& specials = special_tokens();
  if (vocab.size() < specials.size() ||
      !std::equal(specials.begin(), specials.end(), vocab.begin())) {
    throw Error("The vocabulary for " + tokenizer_json.string() +
                " must start with the special tokens <pad> <bos> <eos> <unk> <image>.");
  }
  nlohmann::ordered_json ids = nlohmann::ordered_json::object();
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (ids.contains(vocab[i])) {
      throw Error("The vocabulary for " + tokenizer_json.string() + " has the word '" + vocab[i] +
                  "' twice.");
    }
    ids[vocab[i]] = i;
  }
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (size_t i = 0; i < specials.size(); ++i) {
    added.push_back({{"id", i},
                     {"content", specials[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  const nlohmann::ordered_json bos_piece = {{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}};
  nlohmann::ordered_json tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {bos_piece, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair",
         {bos_piece,
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens", {{"<bos>", {{"id", "<bos>"}, {"ids", {1}}, {"tokens", {"<bos>"}}}}}}}},
      {"decoder", nullptr},
      {"model", {{"type", "WordLevel"}, {"vocab", ids}, {"unk_token", "<unk>"}}},
  };
  const nlohmann::ordered_json config = {
      {"tokenizer_class", "PreTrainedTokenizerFast"},
      {"bos_token", "<bos>"},
      {"eos_token", "<eos>"},
      {"pad_token", "<pad>"},
      {"unk_token", "<unk>"},
      {"add_bos_token", true},
      {"add_eos_token", false},
      {"model_max_length", 1024},
  };
  std::error_code ec;
  if (tokenizer_json.has_parent_path()) {
    std::filesystem::create_directories(tokenizer_json.parent_path(), ec);
    if (ec) {
      throw Error("Cannot create the directory " + tokenizer_json.parent_path().string() + ": " +
                  ec.message() + ".");
    }
  }
  write_json(tokenizer_json, tokenizer);
  write_json(tokenizer_json.parent_path() / "tokenizer_config.json", config);
}

}  // namespace mechscope::tasks
