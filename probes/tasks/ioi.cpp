#include "probes/tasks/ioi.h"

#include <set>

#include "probes/tasks/task_util.h"
#include "probes/tasks/word_pools.h"

namespace mechscope::tasks {

namespace {

// Wang et al.'s (2022) templates, words split for the word-level tokenizer. {X} and {Y} are the
// first mentions (IO S in ABBA order, S IO in BABA order), {S} is the second mention of the
// subject (S2); the prompt ends just before the indirect object.
const std::vector<std::string>& templates() {
  static const std::vector<std::string> t = {
      "Then , {X} and {Y} went to the {PLACE} . {S} gave a {OBJECT} to",
      "Then , {X} and {Y} had a lot of fun at the {PLACE} . {S} gave a {OBJECT} to",
      "Then , {X} and {Y} were working at the {PLACE} . {S} decided to give a {OBJECT} to",
      "Then , {X} and {Y} were thinking about going to the {PLACE} . {S} wanted to give a "
      "{OBJECT} to",
      "Then , {X} and {Y} had a long argument , and afterwards {S} said to",
      "After {X} and {Y} went to the {PLACE} , {S} gave a {OBJECT} to",
      "When {X} and {Y} got a {OBJECT} at the {PLACE} , {S} decided to give it to",
      "When {X} and {Y} got a {OBJECT} at the {PLACE} , {S} decided to give the {OBJECT} to",
      "While {X} and {Y} were working at the {PLACE} , {S} gave a {OBJECT} to",
      "While {X} and {Y} were commuting to the {PLACE} , {S} gave a {OBJECT} to",
      "After the lunch , {X} and {Y} went to the {PLACE} . {S} gave a {OBJECT} to",
      "Afterwards , {X} and {Y} went to the {PLACE} . {S} gave a {OBJECT} to",
      "Then , {X} and {Y} had a long argument . Afterwards {S} said to",
      "The {PLACE} {X} and {Y} went to had a {OBJECT} . {S} gave it to",
      "Friends {X} and {Y} found a {OBJECT} at the {PLACE} . {S} gave it to",
      "When {X} and {Y} went to the {PLACE} , {S} gave a {OBJECT} to",
      "When {X} and {Y} arrived at the {PLACE} , {S} handed a {OBJECT} to",
      "Yesterday {X} and {Y} walked to the {PLACE} . Then {S} passed a {OBJECT} to",
  };
  return t;
}

const std::vector<std::string>& places() {
  static const std::vector<std::string> p = {"store",    "garden", "restaurant", "school",
                                             "hospital", "office", "house",      "station",
                                             "park",     "beach",  "library",    "market"};
  return p;
}

const std::vector<std::string>& objects() {
  static const std::vector<std::string> o = {"ring",     "kiss",     "bone",   "basketball",
                                             "computer", "necklace", "drink",  "snack",
                                             "book",     "ball",     "letter", "flower"};
  return o;
}

}  // namespace

std::string IoiTask::name() const { return "ioi"; }

std::string IoiTask::description() const {
  return "Indirect object identification (Wang et al. 2022), 18 templates in ABBA and BABA "
         "order: \"When Mary and John went to the store , John gave a drink to\" -> Mary (the "
         "indirect object IO). The corrupted prompt is the ABC version: the second mention of "
         "the subject S is replaced by a third name. corrupt_answer is S, for the logit "
         "difference IO - S.";
}

Example IoiTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  const auto& all = templates();
  const size_t template_id = static_cast<size_t>(util::uniform_int(rng, 0, all.size() - 1));
  const std::vector<std::string> names = util::sample(rng, pools::first_names(), 3);
  const std::string& io = names[0];
  const std::string& s = names[1];
  const std::string& c = names[2];
  const bool abba = util::bernoulli(rng, 0.5);
  const std::string place = util::pick(rng, places());
  const std::string object = util::pick(rng, objects());

  const std::string& x = abba ? io : s;
  const std::string& y = abba ? s : io;
  const auto clean = util::fill(
      all[template_id], {{"X", x}, {"Y", y}, {"S", s}, {"PLACE", place}, {"OBJECT", object}});
  const auto corrupt = util::fill(
      all[template_id], {{"X", x}, {"Y", y}, {"S", c}, {"PLACE", place}, {"OBJECT", object}});
  util::require_words(name(), static_cast<int64_t>(clean.words.size()), options.max_words);

  Example ex;
  ex.task = name();
  ex.prompt = clean.words;
  ex.corrupt = corrupt.words;
  ex.answer = {io};
  ex.corrupt_answer = {s};
  const size_t x_pos = util::slot(clean, "X");
  const size_t y_pos = util::slot(clean, "Y");
  ex.meta = {{"io", io},
             {"s", s},
             {"c", c},
             {"io_position", abba ? x_pos : y_pos},
             {"s1_position", abba ? y_pos : x_pos},
             {"s2_position", util::slot(clean, "S")},
             {"end_position", clean.words.size() - 1},
             {"template_id", template_id},
             {"order", abba ? "ABBA" : "BABA"},
             {"place", place},
             {"object", object}};
  return ex;
}

std::vector<std::string> IoiTask::vocabulary() const {
  std::set<std::string> v;
  util::add_template_words(v, templates());
  util::add_words(v, pools::first_names());
  util::add_words(v, places());
  util::add_words(v, objects());
  return util::to_vector(v);
}

}  // namespace mechscope::tasks
