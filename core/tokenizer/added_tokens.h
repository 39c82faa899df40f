#pragma once
/// Added tokens of HF tokenizer.json ("added_tokens"): strings such as "<s>" or "<|im_start|>"
/// that are recognised in the input before pre-tokenization and never split by the model.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mechscope {

struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool special = false;
  bool lstrip = false;       ///< Also swallows the white space before it.
  bool rstrip = false;       ///< Also swallows the white space after it.
  bool single_word = false;  ///< Only matches when not inside a word.
  bool normalized = false;   ///< Matched in the normalized text rather than the original.
};

/// Finds added tokens in text: leftmost-longest, non-overlapping (as HF's Aho-Corasick matcher).
class AddedTokenMatcher {
 public:
  struct Match {
    size_t begin, end;  ///< Bytes covered, including white space taken by lstrip/rstrip.
    const AddedToken* token;
  };

  AddedTokenMatcher() = default;
  /// The tokens must outlive the matcher.
  explicit AddedTokenMatcher(const std::vector<const AddedToken*>& tokens);

  bool empty() const { return nodes_.size() <= 1; }
  std::vector<Match> find(std::string_view text) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> children;  // Sorted by byte.
    const AddedToken* token = nullptr;
  };
  int child(int node, unsigned char byte) const;

  std::vector<Node> nodes_{Node{}};
};

}  // namespace mechscope
