#pragma once
/// Turning task examples into token batches for training and evaluation.
#include <ATen/Tensor.h>

#include <array>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/tasks/task.h"

namespace mechscope {
class Tokenizer;
}

namespace mechscope::training {

/// Word → id for a word-level vocabulary (one token per word), from a tokenizer.
class WordIds {
 public:
  explicit WordIds(const Tokenizer& tokenizer);
  /// Ids of `words`; throws mechscope::Error naming the first unknown word.
  std::vector<int64_t> ids(const std::vector<std::string>& words) const;
  int64_t bos() const { return bos_; }

 private:
  const Tokenizer& tokenizer_;
  int64_t bos_ = 0;
};

/// A right-padded batch: BOS + prompt + answer, shifted for next-token prediction.
struct TokenBatch {
  at::Tensor inputs;         // [batch, pos] int64
  at::Tensor targets;        // [batch, pos] int64 (the next token)
  at::Tensor mask;           // [batch, pos] 1 for real input tokens
  at::Tensor answer_weight;  // [batch, pos] 1 where the target is an answer token (or a prompt
                             // word the task marks predictable: meta "predictable_from" and
                             // "predictable")
  std::vector<int64_t> prompt_lengths;  // words + BOS, per example
};

/// `expand` (optional) rewrites each prompt's ids, e.g. one image token into one per patch.
TokenBatch make_batch(const std::vector<tasks::Example>& examples, const WordIds& words,
                      const std::function<std::vector<int64_t>(std::vector<int64_t>)>& expand = {});

/// The examples' images as normalised pixel values [batch, 3, S, S]: (x - mean) / std.
at::Tensor pixel_batch(const std::vector<tasks::Example>& examples, const std::array<float, 3>& mean,
                       const std::array<float, 3>& std);

}  // namespace mechscope::training
