#include "core/tokenizer/llama2c_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <queue>

#include "core/tokenizer/unicode.h"
#include "core/util/error.h"

namespace mechscope {

namespace {

// llama2.c stores BOS/EOS as "\n<s>\n" and "\n</s>\n"; the readable name drops the newlines.
std::string trim_newlines(const std::string& s) {
  const size_t begin = s.find_first_not_of('\n');
  if (begin == std::string::npos) return s;
  return s.substr(begin, s.find_last_not_of('\n') - begin + 1);
}

// The byte a "<0xNN>" piece stands for.
std::optional<unsigned char> parse_byte_piece(const std::string& s) {
  unsigned value = 0;
  char tail = 0;
  if (s.size() == 6 && std::sscanf(s.c_str(), "<0x%02X%c", &value, &tail) == 2 && tail == '>') {
    return static_cast<unsigned char>(value);
  }
  return std::nullopt;
}

// The end of the character starting at `pos`, grouped as llama2.c does: a lead byte plus up to
// three continuation bytes (so invalid UTF-8 still makes progress).
size_t char_end(const std::string& text, size_t pos, size_t end) {
  size_t stop = pos + 1;
  while (stop < end && stop - pos < 4 && (static_cast<unsigned char>(text[stop]) & 0xC0) == 0x80) {
    ++stop;
  }
  return stop;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

}  // namespace

SpmTokenizer::SpmTokenizer(SpmVocab vocab) : vocab_(std::move(vocab)) {
  byte_ids_.fill(-1);
  const int64_t n = vocab_size();
  ids_.reserve(static_cast<size_t>(n));
  for (int64_t id = 0; id < n; ++id) {
    const std::string& piece = vocab_.pieces[id];
    const SpmTokenType type = vocab_.types[id];
    ids_.emplace(piece, id);  // The first of duplicate pieces wins.
    if (type == SpmTokenType::kByte) {
      if (auto byte = parse_byte_piece(piece); byte && byte_ids_[*byte] < 0) byte_ids_[*byte] = id;
    }
    if (is_special(id) && trim_newlines(piece) != piece)
      special_names_.emplace(trim_newlines(piece), id);
    const bool user_defined = type == SpmTokenType::kUserDefined;
    if (vocab_.match_special && (is_special(id) || user_defined) && !piece.empty()) {
      AddedToken t;
      t.id = id;
      t.content = piece;
      t.special = !user_defined;
      specials_.push_back(std::move(t));
    }
  }
  std::vector<const AddedToken*> matchable;
  for (const AddedToken& t : specials_) matchable.push_back(&t);
  special_matcher_ = AddedTokenMatcher(matchable);
}

bool SpmTokenizer::is_special(int64_t id) const {
  const SpmTokenType type = vocab_.types[id];
  return type == SpmTokenType::kControl || type == SpmTokenType::kUnknown;
}

std::optional<int64_t> SpmTokenizer::lookup(const std::string& piece) const {
  auto it = ids_.find(piece);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

Encoding SpmTokenizer::encode(const std::string& text, bool add_special_tokens) const {
  Encoding out;
  if (add_special_tokens && vocab_.add_bos && vocab_.bos) {
    out.ids.push_back(*vocab_.bos);
    out.offsets.emplace_back(0, 0);
  }
  // Special tokens cut the text into fragments; each fragment gets the dummy prefix, as the start
  // of the text does (llama.cpp's SPM tokenizer, HF's legacy Llama tokenizer).
  size_t pos = 0;
  for (const auto& m : special_matcher_.find(text)) {
    if (m.begin > pos) encode_fragment(text, pos, m.begin, vocab_.add_space_prefix, out);
    out.ids.push_back(m.token->id);
    out.offsets.emplace_back(m.begin, m.end);
    pos = m.end;
  }
  if (pos < text.size()) encode_fragment(text, pos, text.size(), vocab_.add_space_prefix, out);
  if (add_special_tokens && vocab_.add_eos && vocab_.eos) {
    out.ids.push_back(*vocab_.eos);
    out.offsets.emplace_back(0, 0);
  }
  return out;
}

void SpmTokenizer::encode_fragment(const std::string& text, size_t begin, size_t end, bool prefix,
                                   Encoding& out) const {
  struct Symbol {
    std::string piece;  // Spaces escaped as vocab_.space.
    size_t begin, end;  // Bytes of `text` covered.
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  auto add = [&symbols](std::string piece, size_t b, size_t e) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({std::move(piece), b, e, index - 1, index + 1, true});
  };
  if (prefix) add(vocab_.space, begin, begin);  // The dummy prefix covers no input.
  for (size_t pos = begin; pos < end;) {
    const size_t stop = char_end(text, pos, end);
    const bool space = stop == pos + 1 && text[pos] == ' ';
    add(space ? vocab_.space : text.substr(pos, stop - pos), pos, stop);
    pos = stop;
  }
  if (symbols.empty()) return;
  symbols.back().next = -1;

  // Merge the adjacent pair whose concatenation is the best-scoring token until none is a token;
  // ties go left. Symbols only grow, so unchanged lengths mean an unchanged pair.
  struct Candidate {
    float score;
    int left;
    size_t left_size, right_size;
    bool operator<(const Candidate& o) const {
      return score != o.score ? score < o.score : left > o.left;
    }
  };
  std::priority_queue<Candidate> queue;
  auto consider = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    const Symbol& a = symbols[left];
    const Symbol& b = symbols[a.next];
    if (auto merged = lookup(a.piece + b.piece)) {
      queue.push({vocab_.scores[*merged], left, a.piece.size(), b.piece.size()});
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& a = symbols[top.left];
    if (!a.alive || a.next < 0 || a.piece.size() != top.left_size) continue;
    Symbol& b = symbols[a.next];
    if (b.piece.size() != top.right_size) continue;  // Stale: a neighbour was merged meanwhile.
    a.piece += b.piece;
    a.end = b.end;
    a.next = b.next;
    b.alive = false;
    if (a.next >= 0) symbols[a.next].prev = top.left;
    consider(a.prev);
    consider(top.left);
  }

  for (const Symbol& s : symbols) {
    if (!s.alive) continue;
    if (auto id = lookup(s.piece)) {
      out.ids.push_back(*id);
      out.offsets.emplace_back(s.begin, s.end);
      continue;
    }
    // Not a token (an unmerged character): its bytes, each covering the whole character.
    for (unsigned char byte : s.piece) {
      const int64_t id = byte_ids_[byte] >= 0 ? byte_ids_[byte] : vocab_.unk.value_or(-1);
      if (id < 0) continue;  // Neither a byte token nor <unk>: the byte cannot be represented.
      out.ids.push_back(id);
      out.offsets.emplace_back(s.begin, s.end);
    }
  }
}

std::string SpmTokenizer::piece_bytes(int64_t id) const {
  const std::string& piece = vocab_.pieces[id];
  switch (vocab_.types[id]) {
    case SpmTokenType::kByte:
      if (auto byte = parse_byte_piece(piece)) return std::string(1, static_cast<char>(*byte));
      return piece;
    case SpmTokenType::kControl:
    case SpmTokenType::kUnknown:
      return trim_newlines(piece);
    case SpmTokenType::kUserDefined:
      return piece;
    default:
      return vocab_.space == " " ? piece : replace_all(piece, vocab_.space, " ");
  }
}

std::string SpmTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  // Whether the next text token starts a fragment, whose dummy prefix is to be dropped.
  bool strip = vocab_.add_space_prefix;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    const bool user_defined = vocab_.types[id] == SpmTokenType::kUserDefined;
    if (is_special(id)) {
      if (!skip_special_tokens) bytes += piece_bytes(id);
      strip = strip || (vocab_.add_space_prefix && (id == vocab_.bos || vocab_.match_special));
      continue;
    }
    std::string piece = piece_bytes(id);
    if (strip && !user_defined && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip = vocab_.add_space_prefix && vocab_.match_special && user_defined;
    bytes += piece;
  }
  return unicode::sanitize_utf8(bytes);
}

std::string SpmTokenizer::token_text(int64_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return unicode::sanitize_utf8(piece_bytes(id));
}

std::string SpmTokenizer::token_string(int64_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return vocab_.pieces[id];
}

std::optional<int64_t> SpmTokenizer::token_to_id(const std::string& token) const {
  if (auto id = lookup(token)) return id;
  // Control tokens are also known by their readable name ("<s>" for llama2.c's "\n<s>\n").
  auto it = special_names_.find(token);
  if (it == special_names_.end()) return std::nullopt;
  return it->second;
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
  constexpr size_t kFirstByteId = 3;
  if (vocab.size() < kFirstByteId + 256) {
    throw Error("The llama2.c tokenizer file " + name + " has only " +
                std::to_string(vocab.size()) +
                " tokens; it needs at least 259 (<unk>, BOS, EOS and 256 byte tokens).");
  }
  // llama2.c's fixed layout: <unk>, BOS, EOS, then the 256 byte tokens.
  SpmVocab spm;
  spm.types.assign(vocab.size(), SpmTokenType::kNormal);
  spm.types[0] = SpmTokenType::kUnknown;
  spm.types[1] = spm.types[2] = SpmTokenType::kControl;
  std::fill_n(spm.types.begin() + kFirstByteId, 256, SpmTokenType::kByte);
  spm.pieces = std::move(vocab);
  spm.scores = std::move(scores);
  spm.unk = 0;
  spm.bos = 1;
  spm.eos = 2;
  return std::make_unique<SpmTokenizer>(std::move(spm));
}

}  // namespace mechscope
