#include "probes/tasks/induction.h"

#include <algorithm>
#include <set>

#include "probes/tasks/task_util.h"
#include "probes/tasks/vocabulary.h"
#include "probes/tasks/word_pools.h"

namespace mechscope::tasks {

namespace {

constexpr int64_t kMinPeriod = 4;
constexpr int64_t kMaxPeriod = 48;

}  // namespace

const std::vector<std::string>& InductionTask::copy_pool() {
  // Every other task's words and the nonsense tokens, without the special tokens: the project
  // vocabulary's words (project_vocabulary() sorts the same set the same way).
  static const std::vector<std::string> pool = [] {
    std::set<std::string> words(pools::nonsense_tokens().begin(), pools::nonsense_tokens().end());
    for (const auto& task : all_tasks())
      if (task->name() != "induction")
        for (auto& w : task->vocabulary()) words.insert(w);
    for (const auto& s : special_tokens()) words.erase(s);
    return std::vector<std::string>(words.begin(), words.end());
  }();
  return pool;
}

std::string InductionTask::name() const { return "induction"; }

std::string InductionTask::description() const {
  return "A sequence of k distinct random words drawn from the whole vocabulary (every task's "
         "words and the nonsense tokens tok_000 .. tok_199), then the same sequence again, cut off partway into the repeat: the answer is the next token of the repeat, "
         "predictable only by copying. The corrupted prompt replaces the first copy by k other "
         "random tokens (none of them in the clean sequence), so nothing can be copied; its "
         "corrupt_answer is the corrupted first copy's token at the answer's offset.";
}

Example InductionTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  // k + m words with 1 <= m < k: the smallest prompt is k = 4, m = 1.
  util::require_words(name(), kMinPeriod + 1, options.max_words);
  const auto& pool = copy_pool();
  const int64_t max_k = std::clamp<int64_t>(options.max_words / 2 + 1, kMinPeriod, kMaxPeriod);
  const int64_t k = util::uniform_int(rng, kMinPeriod, max_k);
  // m words of the repeat are in the prompt (the answer is the (m+1)-th); k + m <= max_words.
  const int64_t m = util::uniform_int(rng, 1, std::min(k - 1, options.max_words - k));

  const std::vector<size_t> order = util::sample_indices(rng, pool.size(), 2 * k);
  std::vector<std::string> seq, other;
  for (int64_t i = 0; i < k; ++i) seq.push_back(pool[order[i]]);
  for (int64_t i = 0; i < k; ++i) other.push_back(pool[order[k + i]]);

  Example ex;
  ex.task = name();
  ex.prompt = seq;
  ex.corrupt = other;
  for (int64_t i = 0; i < m; ++i) {
    ex.prompt.push_back(seq[i]);
    ex.corrupt.push_back(seq[i]);
  }
  ex.answer = {seq[m]};
  ex.corrupt_answer = {other[m]};
  ex.meta = {{"period", k},
             {"repeat_start", k},            // first word of the second copy
             {"repeated_words", m},          // words of the second copy in the prompt
             {"query_position", k + m - 1},  // the last word
             {"source_position", m - 1},     // the last word's earlier occurrence
             {"answer_source_position", m},  // the answer's earlier occurrence (copy target)
             {"sequence", seq},
             // Every word after the first repeated one is predictable by copying (training uses it).
             {"predictable_from", k + 1}};
  return ex;
}

std::vector<std::string> InductionTask::vocabulary() const { return copy_pool(); }

}  // namespace mechscope::tasks
