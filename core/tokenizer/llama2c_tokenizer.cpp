#include "core/tokenizer/llama2c_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <queue>

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

bool is_control(int64_t id) {
  return id == Llama2cTokenizer::kUnkId || id == Llama2cTokenizer::kBosId ||
         id == Llama2cTokenizer::kEosId;
}

// llama2.c stores BOS/EOS as "\n<s>\n" and "\n</s>\n"; the readable name drops the newlines.
std::string trim_newlines(const std::string& s) {
  const size_t begin = s.find_first_not_of('\n');
  if (begin == std::string::npos) return s;
  return s.substr(begin, s.find_last_not_of('\n') - begin + 1);
}

}  // namespace

Llama2cTokenizer::Llama2cTokenizer(std::vector<std::string> vocab, std::vector<float> scores)
    : vocab_(std::move(vocab)), scores_(std::move(scores)) {
  ids_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) ids_.emplace(vocab_[i], static_cast<int64_t>(i));
}

std::optional<int64_t> Llama2cTokenizer::lookup(const std::string& piece) const {
  auto it = ids_.find(piece);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

Encoding Llama2cTokenizer::encode(const std::string& text, bool add_special_tokens) const {
  struct Symbol {
    int64_t id;
    size_t begin, end;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  auto add = [&symbols](int64_t id, size_t begin, size_t end) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, begin, end, index - 1, index + 1, true});
  };
  if (!text.empty()) {
    if (auto space = lookup(" ")) add(*space, 0, 0);  // The dummy prefix covers no input.
  }
  // Group bytes into UTF-8 characters the way llama2.c does (a lead byte plus up to three
  // continuation bytes), then look each one up, falling back to byte tokens.
  for (size_t pos = 0; pos < text.size();) {
    size_t end = pos + 1;
    while (end < text.size() && end - pos < 4 &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      ++end;
    }
    if (auto id = lookup(text.substr(pos, end - pos))) {
      add(*id, pos, end);
    } else {
      for (size_t i = pos; i < end; ++i) {
        add(static_cast<unsigned char>(text[i]) + kFirstByteId, pos, end);
      }
    }
    pos = end;
  }
  if (!symbols.empty()) symbols.back().next = -1;

  // Merge the best-scoring adjacent pair until none is in the vocabulary; ties go left.
  struct Candidate {
    float score;
    int left;
    int64_t left_id, right_id, merged;
    bool operator<(const Candidate& o) const {
      return score != o.score ? score < o.score : left > o.left;
    }
  };
  std::priority_queue<Candidate> queue;
  auto consider = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[a.next];
    if (auto merged = lookup(vocab_[a.id] + vocab_[b.id])) {
      queue.push({scores_[*merged], left, a.id, b.id, *merged});
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& a = symbols[top.left];
    if (!a.alive || a.next < 0 || a.id != top.left_id) continue;
    Symbol& b = symbols[a.next];
    if (b.id != top.right_id) continue;  // Stale: a neighbour was merged meanwhile.
    a.id = top.merged;
    a.begin = std::min(a.begin, b.begin);
    a.end = std::max(a.end, b.end);
    a.next = b.next;
    b.alive = false;
    if (a.next >= 0) symbols[a.next].prev = top.left;
    consider(a.prev);
    consider(top.left);
  }

  Encoding out;
  if (add_special_tokens) {
    out.ids.push_back(kBosId);
    out.offsets.emplace_back(0, 0);
  }
  for (const Symbol& s : symbols) {
    if (!s.alive) continue;
    out.ids.push_back(s.id);
    out.offsets.emplace_back(s.begin, s.end);
  }
  return out;
}

std::string Llama2cTokenizer::piece_bytes(int64_t id) const {
  if (id >= kFirstByteId && id < kFirstByteId + 256) {
    const std::string& s = vocab_[id];
    unsigned value = 0;
    char tail = 0;
    if (s.size() == 6 && std::sscanf(s.c_str(), "<0x%02X%c", &value, &tail) == 2 && tail == '>') {
      return std::string(1, static_cast<char>(value));
    }
  }
  if (is_control(id)) return trim_newlines(vocab_[id]);
  return vocab_[id];
}

std::string Llama2cTokenizer::decode(const std::vector<int64_t>& ids,
                                     bool skip_special_tokens) const {
  std::string bytes;
  int64_t previous = -1;
  bool first_text = true;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    const int64_t before = previous;
    previous = id;
    if (is_control(id)) {
      if (!skip_special_tokens) bytes += piece_bytes(id);
      continue;
    }
    std::string piece = piece_bytes(id);
    // The dummy prefix the encoder added is not part of the text.
    if ((before == kBosId || first_text) && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    first_text = false;
    bytes += piece;
  }
  return unicode::sanitize_utf8(bytes);
}

std::string Llama2cTokenizer::token_text(int64_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return unicode::sanitize_utf8(piece_bytes(id));
}

std::string Llama2cTokenizer::token_string(int64_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return vocab_[id];
}

std::optional<int64_t> Llama2cTokenizer::token_to_id(const std::string& token) const {
  if (auto id = lookup(token)) return id;
  for (int64_t id : {kUnkId, kBosId, kEosId}) {
    if (id < vocab_size() && trim_newlines(vocab_[id]) == token) return id;
  }
  return std::nullopt;
}

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::filesystem::path& path,
                                                  int64_t vocab_size) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || !in) {
    throw Error("The llama2.c tokenizer file " + name + " does not exist or cannot be opened.");
  }
  auto read_bytes = [&in](void* dst, size_t n) {
    in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    return static_cast<size_t>(in.gcount()) == n;
  };
  int32_t max_token_length = 0;
  if (!read_bytes(&max_token_length, sizeof(max_token_length))) {
    throw Error("The llama2.c tokenizer file " + name + " is too short to hold its header.");
  }
  if (max_token_length <= 0 || max_token_length > (1 << 16)) {
    throw Error("The llama2.c tokenizer file " + name + " has an invalid max_token_length (" +
                std::to_string(max_token_length) + ").");
  }
  std::vector<std::string> vocab;
  std::vector<float> scores;
  for (int64_t i = 0; vocab_size <= 0 || i < vocab_size; ++i) {
    float score = 0;
    if (!read_bytes(&score, sizeof(score))) {
      if (vocab_size <= 0 && in.gcount() == 0) break;  // Clean end of file.
      throw Error("The llama2.c tokenizer file " + name + " is truncated: it ends at token " +
                  std::to_string(i) + " of " + std::to_string(vocab_size) + ".");
    }
    int32_t length = 0;
    if (!read_bytes(&length, sizeof(length))) {
      throw Error("The llama2.c tokenizer file " + name + " is truncated inside token " +
                  std::to_string(i) + ".");
    }
    if (length < 0 || length > max_token_length) {
      throw Error("The llama2.c tokenizer file " + name + " gives token " + std::to_string(i) +
                  " the invalid length " + std::to_string(length) + " (max_token_length is " +
                  std::to_string(max_token_length) + ").");
    }
    std::string piece(static_cast<size_t>(length), '\0');
    if (!read_bytes(piece.data(), piece.size())) {
      throw Error("The llama2.c tokenizer file " + name + " is truncated inside token " +
                  std::to_string(i) + ".");
    }
    vocab.push_back(std::move(piece));
    scores.push_back(score);
  }
  if (vocab.size() < static_cast<size_t>(Llama2cTokenizer::kFirstByteId + 256)) {
    throw Error("The llama2.c tokenizer file " + name + " has only " +
                std::to_string(vocab.size()) +
                " tokens; it needs at least 259 (<unk>, BOS, EOS and 256 byte tokens).");
  }
  return std::make_unique<Llama2cTokenizer>(std::move(vocab), std::move(scores));
}

}  // namespace mechscope
