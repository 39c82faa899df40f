#include "probes/tasks/mqar.h"

#include <algorithm>
#include <set>

#include "probes/tasks/task_util.h"

namespace mechscope::tasks {

namespace {

// The dedicated pool kv_000 .. kv_255: keys are the lower half, values the upper half (Zoology).
constexpr int64_t kPoolSize = 256;
constexpr int64_t kHalf = kPoolSize / 2;
constexpr int64_t kMinPairs = 2;
constexpr int64_t kMaxPairs = 32;
constexpr int64_t kMaxEarlierQueries = 3;

std::string pool_word(int64_t i) {
  std::string n = std::to_string(i);
  return "kv_" + std::string(3 - n.size(), '0') + n;
}

}  // namespace

std::string MqarTask::name() const { return "mqar"; }

std::string MqarTask::description() const {
  return "Multi-query associative recall (Zoology): n key-value pairs \"k1 v1 k2 v2 ..\" (keys "
         "kv_000-kv_127, values kv_128-kv_255, all distinct), then up to 3 earlier queries with "
         "their values (\"k v\"), then one query key; the answer is its value. The corrupted "
         "prompt gives the queried key a different (unused) value in the pairs; corrupt_answer "
         "is that value.";
}

Example MqarTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  // 2n pair words + 2q earlier-query words + 1 query word.
  util::require_words(name(), 2 * kMinPairs + 1, options.max_words);
  const int64_t max_pairs = std::clamp<int64_t>((options.max_words - 1) / 2, kMinPairs, kMaxPairs);
  const int64_t n = util::uniform_int(rng, kMinPairs, max_pairs);
  const int64_t max_queries =
      std::min<int64_t>({kMaxEarlierQueries, n - 1, (options.max_words - 1 - 2 * n) / 2});
  const int64_t q = util::uniform_int(rng, 0, std::max<int64_t>(max_queries, 0));

  const auto key_ids = util::sample_indices(rng, kHalf, static_cast<size_t>(n));
  const auto value_ids = util::sample_indices(rng, kHalf, static_cast<size_t>(n + 1));
  std::vector<std::string> keys, values;
  for (int64_t i = 0; i < n; ++i) {
    keys.push_back(pool_word(static_cast<int64_t>(key_ids[i])));
    values.push_back(pool_word(kHalf + static_cast<int64_t>(value_ids[i])));
  }
  const std::string spare_value = pool_word(kHalf + static_cast<int64_t>(value_ids[n]));
  // The final query is pair `target`; the earlier queries are other pairs.
  const auto query_order =
      util::sample_indices(rng, static_cast<size_t>(n), static_cast<size_t>(q + 1));
  const size_t target = query_order[0];

  Example ex;
  ex.task = name();
  nlohmann::json pairs = nlohmann::json::array();
  for (int64_t i = 0; i < n; ++i) {
    ex.prompt.push_back(keys[i]);
    ex.prompt.push_back(values[i]);
    ex.corrupt.push_back(keys[i]);
    ex.corrupt.push_back(static_cast<size_t>(i) == target ? spare_value : values[i]);
    pairs.push_back({keys[i], values[i]});
  }
  nlohmann::json earlier = nlohmann::json::array();
  nlohmann::json predictable = nlohmann::json::array();  // the earlier queries' values
  for (int64_t j = 1; j <= q; ++j) {
    const size_t p = query_order[j];
    for (auto* words : {&ex.prompt, &ex.corrupt}) {
      words->push_back(keys[p]);
      words->push_back(values[p]);
    }
    earlier.push_back(keys[p]);
    predictable.push_back(static_cast<int64_t>(ex.prompt.size()) - 1);
  }
  const int64_t query_position = static_cast<int64_t>(ex.prompt.size());
  ex.prompt.push_back(keys[target]);
  ex.corrupt.push_back(keys[target]);
  ex.answer = {values[target]};
  ex.corrupt_answer = {spare_value};
  ex.meta = {{"pairs", pairs},
             {"n_pairs", n},
             {"earlier_queries", earlier},
             {"query_key", keys[target]},
             {"query_pair_index", target},
             {"key_position", 2 * static_cast<int64_t>(target)},
             {"value_position", 2 * static_cast<int64_t>(target) + 1},
             {"query_position", query_position},
             {"predictable", predictable}};
  return ex;
}

std::vector<std::string> MqarTask::vocabulary() const {
  std::vector<std::string> v;
  for (int64_t i = 0; i < kPoolSize; ++i) v.push_back(pool_word(i));
  return v;
}

}  // namespace mechscope::tasks
