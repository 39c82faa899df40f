#include "probes/tasks/greater_than.h"

#include <set>

#include "probes/tasks/task_util.h"

namespace mechscope::tasks {

namespace {

// Hanna et al.'s (2023) template first, then paraphrases. {CC} is the century word, {XX} the start
// year's last two digits; the prompt ends with the century of the end year.
const std::vector<std::string>& templates() {
  static const std::vector<std::string> t = {
      "The {NOUN} lasted from the year {CC} {XX} to the year {CC}",
      "The {NOUN} started in the year {CC} {XX} and ended in the year {CC}",
      "The {NOUN} began in {CC} {XX} and was over by {CC}",
      "The {NOUN} ran from {CC} {XX} to {CC}",
      "The {NOUN} went on from the year {CC} {XX} until the year {CC}",
  };
  return t;
}

const std::vector<std::string>& nouns() {
  static const std::vector<std::string> n = {
      "war",      "expedition", "siege",       "reign",        "rebellion",  "dynasty",
      "campaign", "journey",    "plague",      "revolution",   "occupation", "conflict",
      "drought",  "famine",     "alliance",    "truce",        "voyage",     "crusade",
      "empire",   "uprising",   "partnership", "construction", "migration",  "strike"};
  return n;
}

}  // namespace

std::string GreaterThanTask::name() const { return "greater_than"; }

std::string GreaterThanTask::description() const {
  return "Greater-than (Hanna et al. 2023): \"The war lasted from the year 17 32 to the year "
         "17\" -> a two-digit year word YY > 32 (meta valid_answers lists them all; the answer is "
         "one of them at random). Centuries 11-19, start years 02-98. The corrupted prompt uses "
         "the start year 01; corrupt_answer is a year word <= XX (wrong for the clean prompt), "
         "for a logit difference.";
}

Example GreaterThanTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  const size_t template_id = static_cast<size_t>(util::uniform_int(rng, 0, templates().size() - 1));
  const std::string noun = util::pick(rng, nouns());
  const int64_t century = util::uniform_int(rng, 11, 19);
  const int64_t xx = util::uniform_int(rng, 2, 98);
  const std::string cc = util::two_digits(century);

  const auto clean = util::fill(templates()[template_id],
                                {{"NOUN", noun}, {"CC", cc}, {"XX", util::two_digits(xx)}});
  const auto corrupt =
      util::fill(templates()[template_id], {{"NOUN", noun}, {"CC", cc}, {"XX", "01"}});
  util::require_words(name(), static_cast<int64_t>(clean.words.size()), options.max_words);

  std::vector<std::string> valid, invalid;
  for (int64_t yy = 0; yy < 100; ++yy) (yy > xx ? valid : invalid).push_back(util::two_digits(yy));

  Example ex;
  ex.task = name();
  ex.prompt = clean.words;
  ex.corrupt = corrupt.words;
  ex.answer = {util::pick(rng, valid)};
  ex.corrupt_answer = {util::pick(rng, invalid)};
  ex.meta = {{"century", cc},
             {"xx", util::two_digits(xx)},
             {"noun", noun},
             {"template_id", template_id},
             {"start_century_position", util::slot(clean, "CC", 0)},
             {"xx_position", util::slot(clean, "XX")},
             {"end_century_position", util::slot(clean, "CC", 1)},
             {"valid_answers", valid},
             {"invalid_answers", invalid}};
  return ex;
}

std::vector<std::string> GreaterThanTask::vocabulary() const {
  std::set<std::string> v;
  util::add_template_words(v, templates());
  util::add_words(v, nouns());
  for (int64_t yy = 0; yy < 100; ++yy) v.insert(util::two_digits(yy));
  return util::to_vector(v);
}

}  // namespace mechscope::tasks
