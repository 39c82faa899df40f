#pragma once
/// The vocabulary of mechscope's own word-level models, and its tokenizer files.
#include <filesystem>
#include <string>
#include <vector>

namespace mechscope::tasks {

/// The special tokens, in id order: <pad> 0, <bos> 1, <eos> 2, <unk> 3, <image> 4.
const std::vector<std::string>& special_tokens();

/// The project's vocabulary in id order: the special tokens, then the sorted union of every
/// task's vocabulary (without the specials). Throws mechscope::Error if a task emits a word with
/// whitespace in it.
std::vector<std::string> project_vocabulary();

/// Writes a Hugging Face tokenizer.json for `vocab` (ids = positions; vocab must start with
/// special_tokens()): a WordLevel model with <unk>, a WhitespaceSplit pre-tokenizer, a
/// TemplateProcessing post-processor that puts <bos> before a single sequence, the special tokens
/// as special added tokens and no decoder (decoding joins words with single spaces). Writes
/// tokenizer_config.json beside it (bos <bos>, eos <eos>, pad <pad>, unk <unk>, add_bos_token
/// true). Creates the directory; throws mechscope::Error naming the file when it cannot write.
void write_word_level_tokenizer(const std::filesystem::path& tokenizer_json,
                                const std::vector<std::string>& vocab);

}  // namespace mechscope::tasks
