#include "core/tokenizer/bpe.h"

#include <cstdio>
#include <queue>

#include "core/tokenizer/unicode.h"

namespace mechscope {

namespace {

uint64_t pair_key(int64_t left, int64_t right) {
  return (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

BpeModel::BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  if (options_.unk_token) unk_id_ = vocab_.find(*options_.unk_token);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_ids_[b] = vocab_.find(name).value_or(-1);
  }
  merges_.reserve(merges.size());
  const std::string& prefix = options_.continuing_subword_prefix;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto left_id = vocab_.find(left);
    const auto right_id = vocab_.find(right);
    // The right part loses its continuation prefix when merged (HF BPE).
    const bool strip = !prefix.empty() && right.compare(0, prefix.size(), prefix) == 0;
    const auto new_id = vocab_.find(left + (strip ? right.substr(prefix.size()) : right));
    if (!left_id || !right_id || !new_id) continue;
    merges_.emplace(pair_key(*left_id, *right_id),
                    Merge{static_cast<int32_t>(rank), *new_id});  // First (best) rank wins.
  }
}

const BpeModel::Merge* BpeModel::find_merge(int64_t left, int64_t right) const {
  auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::tokenize(const std::string& piece, std::vector<ModelToken>& out) const {
  if (piece.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = vocab_.find(piece)) {
      out.push_back({*id, 0, piece.size()});
      return;
    }
  }
  const bool cacheable = piece.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(piece);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<ModelToken> tokens;
  tokenize_uncached(piece, tokens);
  out.insert(out.end(), tokens.begin(), tokens.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(piece, std::move(tokens));
  }
}

void BpeModel::tokenize_uncached(const std::string& piece, std::vector<ModelToken>& out) const {
  struct Symbol {
    int64_t id;
    size_t begin, end;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(piece.size());
  auto add = [&symbols](int64_t id, size_t begin, size_t end) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, begin, end, index - 1, index + 1, true});
  };

  // 1. One symbol per character (or per byte with byte fallback, or an unknown token).
  ModelToken pending_unk{0, 0, 0};  // An unknown-token run not yet added (fuse_unk).
  bool has_pending_unk = false;
  auto flush_unk = [&] {
    if (has_pending_unk) add(pending_unk.id, pending_unk.begin, pending_unk.end);
    has_pending_unk = false;
  };
  std::string scratch;
  for (size_t pos = 0; pos < piece.size();) {
    const size_t len = unicode::next_char(piece, pos).length;
    const size_t end = pos + len;
    scratch.clear();
    if (pos > 0) scratch += options_.continuing_subword_prefix;
    scratch.append(piece, pos, len);
    if (end == piece.size()) scratch += options_.end_of_word_suffix;
    if (auto id = vocab_.find(scratch)) {
      flush_unk();
      add(*id, pos, end);
    } else {
      bool done = false;
      if (options_.byte_fallback) {
        bool all = true;
        for (size_t i = pos; i < end; ++i)
          all = all && byte_ids_[static_cast<uint8_t>(piece[i])] >= 0;
        if (all) {
          flush_unk();
          // Every byte token of a character reports the whole character's range.
          for (size_t i = pos; i < end; ++i)
            add(byte_ids_[static_cast<uint8_t>(piece[i])], pos, end);
          done = true;
        }
      }
      if (!done && unk_id_) {
        if (has_pending_unk && options_.fuse_unk) {
          pending_unk.end = end;
        } else {
          flush_unk();
          pending_unk = ModelToken{*unk_id_, pos, end};
          has_pending_unk = true;
        }
      }
    }
    pos = end;
  }
  flush_unk();
  if (symbols.empty()) return;
  symbols.back().next = -1;

  // 2. Apply merges lowest rank first; ties go to the leftmost pair.
  struct Candidate {
    int32_t rank;
    int pos;
    int64_t new_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    if (const Merge* m = find_merge(symbols[left].id, symbols[symbols[left].next].id)) {
      queue.push({m->rank, left, m->new_id});
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const Merge* m = find_merge(left.id, right.id);
    if (m == nullptr || m->new_id != top.new_id) continue;  // Stale entry.
    left.id = m->new_id;
    left.end = right.end;
    left.next = right.next;
    right.alive = false;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  for (const Symbol& s : symbols) {
    if (s.alive) out.push_back({s.id, s.begin, s.end});
  }
}

}  // namespace mechscope
