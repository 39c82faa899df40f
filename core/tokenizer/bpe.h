#pragma once
/// Byte-pair encoding as HF tokenizers implements it: merges applied in rank order with a priority
/// queue over a linked list of symbols (O(n log n) per word), a per-word cache, byte fallback
/// (<0xNN> tokens), unknown-token fusing and ignore_merges.
#include <array>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/model.h"

namespace mechscope {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  /// A piece that is itself in the vocabulary is emitted as one token without merging (Llama 3).
  bool ignore_merges = false;
};

class BpeModel : public Model {
 public:
  /// `merges` holds pairs of token strings, highest priority first. Merges whose parts or result
  /// are not in the vocabulary are skipped.
  BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           BpeOptions options);

  void tokenize(const std::string& piece, std::vector<ModelToken>& out) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  struct Merge {
    int32_t rank;
    int64_t new_id;
  };
  void tokenize_uncached(const std::string& piece, std::vector<ModelToken>& out) const;
  const Merge* find_merge(int64_t left, int64_t right) const;

  Vocab vocab_;
  BpeOptions options_;
  std::optional<int64_t> unk_id_;
  std::array<int64_t, 256> byte_ids_;  // Id of <0xNN>, or -1.
  std::unordered_map<uint64_t, Merge> merges_;

  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kMaxCacheEntries = 200000;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<ModelToken>> cache_;
};

}  // namespace mechscope
