#include "core/tokenizer/added_tokens.h"

#include <algorithm>

#include "core/tokenizer/pattern.h"
#include "core/tokenizer/unicode.h"

namespace mechscope {

namespace {

// The start of the character that ends just before byte `pos`.
size_t previous_char_start(std::string_view text, size_t pos) {
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80 && pos - start < 4) {
    --start;
  }
  return start;
}

char32_t char_before(std::string_view text, size_t pos) {
  return unicode::next_char(text, previous_char_start(text, pos)).code_point;
}

// HF decides single_word with the regexes \w$ and ^\w (Rust's \w).
bool is_word_char(std::string_view text, size_t pos) {
  static const Pattern word = Pattern::regex("^[" MECHSCOPE_RUST_WORD_CLASS "]", "(built-in)");
  return !word.find_all(text.substr(pos, unicode::next_char(text, pos).length)).empty();
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<const AddedToken*>& tokens) {
  for (const AddedToken* token : tokens) {
    if (token->content.empty()) continue;
    int node = 0;
    for (char c : token->content) {
      const auto byte = static_cast<unsigned char>(c);
      int next = child(node, byte);
      if (next < 0) {
        next = static_cast<int>(nodes_.size());
        nodes_.emplace_back();
        auto& children = nodes_[node].children;
        children.insert(std::lower_bound(children.begin(), children.end(), std::make_pair(byte, 0)),
                        {byte, next});
      }
      node = next;
    }
    if (nodes_[node].token == nullptr) nodes_[node].token = token;
  }
}

int AddedTokenMatcher::child(int node, unsigned char byte) const {
  const auto& children = nodes_[node].children;
  auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(byte, 0));
  return (it != children.end() && it->first == byte) ? it->second : -1;
}

std::vector<AddedTokenMatcher::Match> AddedTokenMatcher::find(std::string_view text) const {
  std::vector<Match> matches;
  if (empty()) return matches;
  size_t previous_end = 0;
  for (size_t pos = 0; pos < text.size();) {
    // Longest token starting at pos.
    const AddedToken* best = nullptr;
    size_t best_end = 0;
    int node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node < 0) break;
      if (nodes_[node].token != nullptr) {
        best = nodes_[node].token;
        best_end = i + 1;
      }
    }
    if (best == nullptr) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = best_end;
    pos = best_end;
    if (best->single_word) {
      const bool word_before = begin > 0 && is_word_char(text, previous_char_start(text, begin));
      const bool word_after = end < text.size() && is_word_char(text, end);
      if (word_before || word_after) continue;
    }
    if (best->lstrip) {
      while (begin > previous_end && unicode::is_whitespace(char_before(text, begin))) {
        begin = previous_char_start(text, begin);
      }
    }
    if (best->rstrip) {
      while (end < text.size()) {
        const auto c = unicode::next_char(text, end);
        if (!unicode::is_whitespace(c.code_point)) break;
        end += c.length;
      }
      pos = end;
    }
    matches.push_back({begin, end, best});
    previous_end = end;
  }
  return matches;
}

}  // namespace mechscope
