#include "probes/tasks/needle.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/util/error.h"
#include "probes/tasks/task_util.h"

namespace mechscope::tasks {

namespace {

const std::vector<std::string>& fillers() {
  static const std::vector<std::string> f = {
      "The grass is green and the sky is blue .",
      "A small boat sailed slowly across the lake .",
      "The old man walked his dog every morning .",
      "Rain fell on the roof all night long .",
      "The children played football in the park .",
      "She made a cup of tea and read the news .",
      "The train to the city was late again .",
      "Birds sang in the trees behind the house .",
      "The market was busy on Saturday morning .",
      "He painted the fence white last summer .",
      "The river runs past the mill and into the sea .",
      "A cold wind blew from the north .",
      "The baker sells fresh bread every day .",
      "Our neighbours planted roses in their garden .",
      "The library closes early on Sunday .",
      "A cat slept in the warm sun by the window .",
      "The road to the village is long and narrow .",
      "They watched the stars from the hill .",
      "The soup was hot and full of vegetables .",
      "Many people visit the museum in spring .",
      "The teacher wrote a long list on the board .",
      "Snow covered the mountains in winter .",
      "The farmer fed the cows before sunrise .",
      "A bright light shone from the tower .",
      "The shop on the corner sells old maps .",
      "We walked along the beach after dinner .",
      "The clock in the hall struck noon .",
      "Fresh apples grow in the orchard .",
      "The bridge was built many years ago .",
      "A quiet song played on the radio .",
      "The lamp on the desk was still on .",
      "Leaves fell from the trees in autumn .",
      "The baby laughed at the funny dog .",
      "The musicians played late into the night .",
  };
  return f;
}

const std::vector<std::string>& needle_nouns() {
  static const std::vector<std::string> n = {"vault",  "door",   "safe",  "box",
                                             "locker", "gate",   "chest", "cellar",
                                             "garage", "drawer", "tower", "office"};
  return n;
}

// Needle sentence and question; {NOUN} is the lock, {CODE} the three digits.
struct NeedleTemplate {
  const char* needle;
  const char* question;
};

const std::vector<NeedleTemplate>& needle_templates() {
  static const std::vector<NeedleTemplate> t = {
      {"The secret code of the {NOUN} is {CODE} .", "What is the secret code of the {NOUN} ?"},
      {"The code that opens the {NOUN} is {CODE} .", "What is the code that opens the {NOUN} ?"},
      {"Remember that the code for the {NOUN} is {CODE} .", "What is the code for the {NOUN} ?"},
  };
  return t;
}

constexpr int64_t kCodeDigits = 3;

std::string code_text(const std::vector<int64_t>& digits) {
  std::string out;
  for (int64_t d : digits) out += (out.empty() ? "" : " ") + std::to_string(d);
  return out;
}

}  // namespace

std::string NeedleTask::name() const { return "needle"; }

std::string NeedleTask::description() const {
  return "Needle in a haystack (Wu et al. 2024): filler sentences with one needle sentence (\"The "
         "secret code of the vault is 4 7 1 .\") inserted at a sentence boundary at depth 0, 0.1, "
         ".. 1 of the haystack, then a question (\"What is the secret code of the vault ?\"); the "
         "answer is the code's three digit words. The haystack length varies up to max_words. The "
         "corrupted prompt is the same haystack with a different code (every digit differs); "
         "corrupt_answer is that code.";
}

Example NeedleTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  return build(rng, options, -1, -1);
}

Example NeedleTask::sample_at(std::mt19937_64& rng, const TaskOptions& options,
                              int64_t haystack_words, double depth_percent) const {
  if (depth_percent < 0 || depth_percent > 100)
    throw Error("The needle depth must be between 0 and 100%, not " +
                std::to_string(depth_percent) + ".");
  return build(rng, options, std::max<int64_t>(1, haystack_words), depth_percent);
}

// haystack_words < 0 / depth_percent < 0: drawn at random (sample()).
Example NeedleTask::build(std::mt19937_64& rng, const TaskOptions& options,
                          int64_t haystack_words, double depth_percent) const {
  const auto& templ = util::pick(rng, needle_templates());
  const std::string noun = util::pick(rng, needle_nouns());
  std::vector<int64_t> code, other;
  for (int64_t i = 0; i < kCodeDigits; ++i) {
    code.push_back(util::uniform_int(rng, 0, 9));
    other.push_back((code.back() + util::uniform_int(rng, 1, 9)) % 10);
  }
  const auto needle = util::fill(templ.needle, {{"NOUN", noun}, {"CODE", code_text(code)}});
  const auto needle_corrupt =
      util::fill(templ.needle, {{"NOUN", noun}, {"CODE", code_text(other)}});
  const auto question = util::fill(templ.question, {{"NOUN", noun}});
  const int64_t fixed = static_cast<int64_t>(needle.words.size() + question.words.size());

  // The haystack: whole filler sentences (no repeats while the pool lasts) up to a random budget.
  size_t shortest = SIZE_MAX;
  for (const auto& f : fillers()) shortest = std::min(shortest, util::words(f).size());
  util::require_words(name(), fixed + static_cast<int64_t>(shortest), options.max_words);
  if (haystack_words > options.max_words - fixed)
    throw Error("A haystack of " + std::to_string(haystack_words) + " words and the needle and "
                "question do not fit max_words = " + std::to_string(options.max_words) + ".");
  const int64_t budget =
      haystack_words > 0
          ? std::max<int64_t>(haystack_words, static_cast<int64_t>(shortest))
          : util::uniform_int(rng, static_cast<int64_t>(shortest), options.max_words - fixed);
  std::vector<std::vector<std::string>> sentences;
  int64_t used = 0;
  std::vector<size_t> order;
  // Terminates: `used` grows up to `budget`, and the shortest sentence (<= budget) is tried within
  // one pass over the pool.
  for (;;) {
    if (order.empty()) order = util::sample_indices(rng, fillers().size(), fillers().size());
    auto words = util::words(fillers()[order.back()]);
    order.pop_back();
    if (used + static_cast<int64_t>(words.size()) > budget) {
      if (!sentences.empty()) break;
      continue;  // The first sentence must fit; try another.
    }
    used += static_cast<int64_t>(words.size());
    sentences.push_back(std::move(words));
  }

  const double depth = depth_percent >= 0 ? depth_percent / 100.0
                                          : static_cast<double>(util::uniform_int(rng, 0, 10)) / 10.0;
  const size_t insert_at = static_cast<size_t>(
      std::lround(depth * static_cast<double>(sentences.size())));

  Example ex;
  ex.task = name();
  int64_t needle_start = 0;
  for (size_t i = 0; i <= sentences.size(); ++i) {
    if (i == insert_at) {
      needle_start = static_cast<int64_t>(ex.prompt.size());
      ex.prompt.insert(ex.prompt.end(), needle.words.begin(), needle.words.end());
      ex.corrupt.insert(ex.corrupt.end(), needle_corrupt.words.begin(), needle_corrupt.words.end());
    }
    if (i < sentences.size()) {
      ex.prompt.insert(ex.prompt.end(), sentences[i].begin(), sentences[i].end());
      ex.corrupt.insert(ex.corrupt.end(), sentences[i].begin(), sentences[i].end());
    }
  }
  const int64_t question_start = static_cast<int64_t>(ex.prompt.size());
  ex.prompt.insert(ex.prompt.end(), question.words.begin(), question.words.end());
  ex.corrupt.insert(ex.corrupt.end(), question.words.begin(), question.words.end());

  for (int64_t d : code) ex.answer.push_back(std::to_string(d));
  for (int64_t d : other) ex.corrupt_answer.push_back(std::to_string(d));
  const int64_t answer_start = needle_start + static_cast<int64_t>(util::slot(needle, "CODE"));
  ex.meta = {{"noun", noun},
             {"code", ex.answer},
             {"depth", depth},
             {"haystack_sentences", sentences.size()},
             {"needle_sentence_index", insert_at},
             {"needle_start", needle_start},
             {"needle_end", needle_start + static_cast<int64_t>(needle.words.size())},
             {"answer_start", answer_start},
             {"answer_end", answer_start + kCodeDigits},
             {"question_start", question_start}};
  return ex;
}

std::vector<std::string> NeedleTask::vocabulary() const {
  std::set<std::string> v;
  util::add_words(v, fillers());
  util::add_words(v, needle_nouns());
  for (const auto& t : needle_templates()) {
    util::add_template_words(v, {t.needle, t.question});
  }
  for (int d = 0; d < 10; ++d) v.insert(std::to_string(d));
  return util::to_vector(v);
}

}  // namespace mechscope::tasks
