#pragma once
/// Helpers shared by the task generators: portable random draws (the standard distributions
/// differ between standard libraries, so examples would differ between compilers), and word
/// lists built from strings.
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace mechscope::tasks::util {

/// SplitMix64's finaliser: a good 64-bit mixer.
uint64_t mix64(uint64_t x);

/// A uniform integer in [lo, hi] (inclusive).
int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi);

/// A uniform double in [0, 1).
double uniform_real(std::mt19937_64& rng);

/// True with probability p.
bool bernoulli(std::mt19937_64& rng, double p);

/// Fisher–Yates shuffle with uniform_int.
template <typename T>
void shuffle(std::mt19937_64& rng, std::vector<T>& items) {
  for (int64_t i = static_cast<int64_t>(items.size()) - 1; i > 0; --i) {
    std::swap(items[static_cast<size_t>(i)], items[static_cast<size_t>(uniform_int(rng, 0, i))]);
  }
}

/// A uniformly chosen element of a non-empty list.
template <typename T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& items) {
  return items[static_cast<size_t>(uniform_int(rng, 0, static_cast<int64_t>(items.size()) - 1))];
}

/// k distinct indices from [0, n), in random order.
std::vector<size_t> sample_indices(std::mt19937_64& rng, size_t n, size_t k);

/// k distinct elements of `items`, in random order.
template <typename T>
std::vector<T> sample(std::mt19937_64& rng, const std::vector<T>& items, size_t k) {
  std::vector<T> out;
  out.reserve(k);
  for (size_t i : sample_indices(rng, items.size(), k)) out.push_back(items[i]);
  return out;
}

/// Splits on whitespace.
std::vector<std::string> words(const std::string& text);

/// Appends the words of `text` to `out`.
void append(std::vector<std::string>& out, const std::string& text);

/// Adds the words of `text` to `vocab`.
void add_words(std::set<std::string>& vocab, const std::string& text);

/// Adds every word of every string of `texts` to `vocab`.
void add_words(std::set<std::string>& vocab, const std::vector<std::string>& texts);

/// Adds the words of templates to `vocab`, skipping `{placeholder}` words.
void add_template_words(std::set<std::string>& vocab, const std::vector<std::string>& templates);

/// The sorted words of `vocab`.
std::vector<std::string> to_vector(const std::set<std::string>& vocab);

/// Two-digit words "00" .. "99" for n in [0, 99].
std::string two_digits(int64_t n);

/// Throws mechscope::Error when a prompt of `needed` words does not fit `max_words`.
void require_words(const std::string& task, int64_t needed, int64_t max_words);

/// A template with its placeholders filled in: the words, and for every placeholder occurrence
/// the word index where its value starts (in template order).
struct Filled {
  std::vector<std::string> words;
  std::vector<std::pair<std::string, size_t>> slots;  // (placeholder, word index), in order
};

/// Replaces every placeholder word `{key}` of `templ` by the words of its value. Throws
/// mechscope::Error naming the template when a placeholder has no value.
Filled fill(const std::string& templ,
            const std::vector<std::pair<std::string, std::string>>& values);

/// The word index of the n-th (0-based) occurrence of placeholder `key` in `filled`.
size_t slot(const Filled& filled, const std::string& key, size_t n = 0);

}  // namespace mechscope::tasks::util
