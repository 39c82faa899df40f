#include "probes/tasks/task_util.h"

#include <numeric>
#include <sstream>

#include "core/util/error.h"

namespace mechscope::tasks::util {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
  // Rejection sampling keeps the draw exactly uniform.
  const uint64_t limit = range == 0 ? 0 : (~uint64_t{0} - range + 1) % range;
  uint64_t x;
  do {
    x = rng();
  } while (x < limit);
  return lo + static_cast<int64_t>(x % range);
}

double uniform_real(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

bool bernoulli(std::mt19937_64& rng, double p) { return uniform_real(rng) < p; }

std::vector<size_t> sample_indices(std::mt19937_64& rng, size_t n, size_t k) {
  if (k > n) {
    throw Error("Cannot draw " + std::to_string(k) + " distinct items from " + std::to_string(n) +
                ".");
  }
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), size_t{0});
  // Partial Fisher–Yates: the first k slots are the sample.
  for (size_t i = 0; i < k; ++i) {
    const size_t j =
        static_cast<size_t>(uniform_int(rng, static_cast<int64_t>(i), static_cast<int64_t>(n) - 1));
    std::swap(all[i], all[j]);
  }
  all.resize(k);
  return all;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

void append(std::vector<std::string>& out, const std::string& text) {
  for (auto& w : words(text)) out.push_back(std::move(w));
}

void add_words(std::set<std::string>& vocab, const std::string& text) {
  for (auto& w : words(text)) vocab.insert(std::move(w));
}

void add_words(std::set<std::string>& vocab, const std::vector<std::string>& texts) {
  for (const auto& t : texts) add_words(vocab, t);
}

void add_template_words(std::set<std::string>& vocab, const std::vector<std::string>& templates) {
  for (const auto& t : templates) {
    for (auto& w : words(t)) {
      if (!(w.size() > 2 && w.front() == '{' && w.back() == '}')) vocab.insert(std::move(w));
    }
  }
}

std::vector<std::string> to_vector(const std::set<std::string>& vocab) {
  return {vocab.begin(), vocab.end()};
}

std::string two_digits(int64_t n) {
  std::string s = std::to_string(n % 100);
  return s.size() == 1 ? "0" + s : s;
}

void require_words(const std::string& task, int64_t needed, int64_t max_words) {
  if (needed > max_words) {
    throw Error("The task '" + task + "' needs prompts of at least " + std::to_string(needed) +
                " words, but max_words is " + std::to_string(max_words) + ".");
  }
}

Filled fill(const std::string& templ,
            const std::vector<std::pair<std::string, std::string>>& values) {
  Filled out;
  for (const auto& w : words(templ)) {
    bool replaced = false;
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      const std::string key = w.substr(1, w.size() - 2);
      for (const auto& [k, v] : values) {
        if (k != key) continue;
        out.slots.emplace_back(key, out.words.size());
        append(out.words, v);
        replaced = true;
        break;
      }
      if (!replaced) throw Error("The task template '" + templ + "' has no value for " + w + ".");
    }
    if (!replaced) out.words.push_back(w);
  }
  return out;
}

size_t slot(const Filled& filled, const std::string& key, size_t n) {
  for (const auto& [k, index] : filled.slots) {
    if (k == key && n-- == 0) return index;
  }
  throw Error("A task template has no placeholder {" + key + "}.");
}

}  // namespace mechscope::tasks::util
