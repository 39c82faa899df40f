#include "probes/tasks/mc_letter.h"

#include <set>

#include "probes/tasks/task_util.h"
#include "probes/tasks/word_pools.h"

namespace mechscope::tasks {

namespace {

// A family of facts "subject -> value": how the fact is stated, how it is asked, and the pairs.
// Values are distinct within a family, so any other pair's value is a wrong option.
struct Family {
  std::string name;
  std::string fact;      // {S} subject, {V} value
  std::string question;  // {S} subject
  std::vector<std::pair<std::string, std::string>> pairs;
};

std::vector<std::pair<std::string, std::string>> named(const std::vector<std::string>& values,
                                                       size_t offset) {
  // Synthetic facts about people: names paired with values (nothing to memorise in training).
  std::vector<std::pair<std::string, std::string>> out;
  const auto& names = pools::first_names();
  for (size_t i = 0; i < values.size(); ++i) {
    out.emplace_back(names[(offset + i) % names.size()], values[i]);
  }
  return out;
}

const std::vector<Family>& families() {
  static const std::vector<Family> f = {
      {"capital",
       "{V} is the capital of {S} .",
       "What is the capital of {S} ?",
       {{"France", "Paris"},     {"Germany", "Berlin"},  {"Italy", "Rome"},
        {"Spain", "Madrid"},     {"Japan", "Tokyo"},     {"Egypt", "Cairo"},
        {"Russia", "Moscow"},    {"Greece", "Athens"},   {"Portugal", "Lisbon"},
        {"Austria", "Vienna"},   {"Norway", "Oslo"},     {"Sweden", "Stockholm"},
        {"Finland", "Helsinki"}, {"Poland", "Warsaw"},   {"Ireland", "Dublin"},
        {"Kenya", "Nairobi"},    {"Peru", "Lima"},       {"Canada", "Ottawa"},
        {"Cuba", "Havana"},      {"Thailand", "Bangkok"}}},
      {"sound",
       "A {S} says {V} .",
       "What does a {S} say ?",
       {{"cow", "moo"},
        {"dog", "woof"},
        {"cat", "meow"},
        {"duck", "quack"},
        {"sheep", "baa"},
        {"owl", "hoot"},
        {"snake", "hiss"},
        {"lion", "roar"},
        {"pig", "oink"},
        {"frog", "croak"},
        {"horse", "neigh"},
        {"bee", "buzz"},
        {"crow", "caw"},
        {"mouse", "squeak"}}},
      {"baby",
       "A baby {S} is called a {V} .",
       "What is a baby {S} called ?",
       {{"dog", "puppy"},
        {"cat", "kitten"},
        {"cow", "calf"},
        {"horse", "foal"},
        {"sheep", "lamb"},
        {"goat", "kid"},
        {"bear", "cub"},
        {"hen", "chick"},
        {"frog", "tadpole"},
        {"swan", "cygnet"},
        {"kangaroo", "joey"},
        {"goose", "gosling"}}},
      {"language",
       "People in {S} speak {V} .",
       "What language do people in {S} speak ?",
       {{"France", "French"},
        {"Germany", "German"},
        {"Italy", "Italian"},
        {"Japan", "Japanese"},
        {"Russia", "Russian"},
        {"Greece", "Greek"},
        {"Portugal", "Portuguese"},
        {"Poland", "Polish"},
        {"Sweden", "Swedish"},
        {"Turkey", "Turkish"},
        {"Finland", "Finnish"},
        {"Norway", "Norwegian"},
        {"China", "Chinese"},
        {"Korea", "Korean"},
        {"Netherlands", "Dutch"}}},
      {"opposite",
       "The opposite of {S} is {V} .",
       "What is the opposite of {S} ?",
       {{"hot", "cold"},
        {"big", "small"},
        {"fast", "slow"},
        {"up", "down"},
        {"light", "dark"},
        {"early", "late"},
        {"happy", "sad"},
        {"full", "empty"},
        {"open", "closed"},
        {"old", "young"},
        {"rich", "poor"},
        {"hard", "soft"}}},
      {"favorite_color", "The favorite color of {S} is {V} .",
       "What is the favorite color of {S} ?", named(pools::colors(), 0)},
      {"pet", "The pet of {S} is a {V} .", "What is the pet of {S} ?",
       named({"hamster", "parrot", "rabbit", "turtle", "goldfish", "lizard", "ferret", "canary",
              "tortoise", "pony"},
             17)},
      {"job", "{S} works as a {V} .", "What does {S} work as ?",
       named({"doctor", "teacher", "pilot", "farmer", "lawyer", "baker", "nurse", "painter",
              "dentist", "plumber", "chef", "writer"},
             31)},
  };
  return f;
}

const std::vector<std::string>& letters() {
  static const std::vector<std::string> l = {"A", "B", "C", "D"};
  return l;
}

// One fact: the correct option's text given earlier (the "correct letter" setting). With
// further facts about other subjects the task needs a subject lookup before the letter lookup,
// which the 4-5-layer default models did not learn in their training budget.
constexpr size_t kMaxDistractorFacts = 0;

}  // namespace

std::string McLetterTask::name() const { return "mc_letter"; }

std::string McLetterTask::description() const {
  return "Multiple-choice correct letter (Lieberum et al. 2023), with the correct option's text "
         "given earlier: one fact of a family (capitals, animal sounds, baby animals, "
         "languages, opposites, and synthetic facts about people), then \"Question : What is the "
         "capital of France ? A . Berlin B . Paris C . Rome D . Madrid Answer :\" -> the letter "
         "of the option the fact names. "
         "The corrupted prompt shuffles the options so the correct one has another letter; "
         "corrupt_answer is that letter.";
}

Example McLetterTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  const Family& family = util::pick(rng, families());
  const size_t n_options = letters().size();
  // Pair 0 is asked about; pairs 1.. give the wrong options, the first few also stated as facts.
  const auto chosen = util::sample_indices(rng, family.pairs.size(), n_options);
  const size_t n_facts = 1 + static_cast<size_t>(util::uniform_int(rng, 0, kMaxDistractorFacts));
  std::vector<size_t> fact_order = util::sample_indices(rng, n_facts, n_facts);

  // Options: a random order; the corrupted order moves the correct option to another letter.
  std::vector<size_t> order = util::sample_indices(rng, n_options, n_options);  // slot -> chosen
  std::vector<size_t> corrupt_order = order;
  size_t correct = 0, corrupt_correct = 0;
  for (size_t i = 0; i < n_options; ++i) {
    if (order[i] == 0) correct = i;
  }
  corrupt_correct =
      (correct + static_cast<size_t>(util::uniform_int(rng, 1, n_options - 1))) % n_options;
  std::swap(corrupt_order[correct], corrupt_order[corrupt_correct]);

  const std::string& subject = family.pairs[chosen[0]].first;
  std::vector<std::string> context;
  nlohmann::json fact_value_positions = nlohmann::json::array();
  size_t answer_fact_value_position = 0;
  for (size_t f : fact_order) {
    const auto& [s, v] = family.pairs[chosen[f]];
    const auto fact = util::fill(family.fact, {{"S", s}, {"V", v}});
    const size_t value_pos = context.size() + util::slot(fact, "V");
    fact_value_positions.push_back(value_pos);
    if (f == 0) answer_fact_value_position = value_pos;
    context.insert(context.end(), fact.words.begin(), fact.words.end());
  }
  const auto question = util::fill("Question : " + family.question, {{"S", subject}});

  auto render = [&](const std::vector<size_t>& slots, std::vector<size_t>& letter_pos,
                    std::vector<size_t>& option_pos) {
    std::vector<std::string> words = context;
    words.insert(words.end(), question.words.begin(), question.words.end());
    for (size_t i = 0; i < n_options; ++i) {
      letter_pos.push_back(words.size());
      words.push_back(letters()[i]);
      words.push_back(".");
      option_pos.push_back(words.size());
      words.push_back(family.pairs[chosen[slots[i]]].second);
    }
    words.push_back("Answer");
    words.push_back(":");
    return words;
  };
  std::vector<size_t> letter_pos, option_pos, corrupt_letter_pos, corrupt_option_pos;
  Example ex;
  ex.task = name();
  ex.prompt = render(order, letter_pos, option_pos);
  ex.corrupt = render(corrupt_order, corrupt_letter_pos, corrupt_option_pos);
  util::require_words(name(), static_cast<int64_t>(ex.prompt.size()), options.max_words);
  ex.answer = {letters()[correct]};
  ex.corrupt_answer = {letters()[corrupt_correct]};
  std::vector<std::string> option_texts, corrupt_option_texts;
  for (size_t i = 0; i < n_options; ++i) {
    option_texts.push_back(family.pairs[chosen[order[i]]].second);
    corrupt_option_texts.push_back(family.pairs[chosen[corrupt_order[i]]].second);
  }
  ex.meta = {{"family", family.name},
             {"subject", subject},
             {"correct_index", correct},
             {"correct_text", family.pairs[chosen[0]].second},
             {"corrupt_correct_index", corrupt_correct},
             {"options", option_texts},
             {"corrupt_options", corrupt_option_texts},
             {"letter_positions", letter_pos},
             {"option_positions", option_pos},
             {"correct_letter_position", letter_pos[correct]},
             {"correct_option_position", option_pos[correct]},
             {"fact_value_positions", fact_value_positions},
             {"answer_fact_value_position", answer_fact_value_position},
             {"question_start", context.size()}};
  return ex;
}

std::vector<std::string> McLetterTask::vocabulary() const {
  std::set<std::string> v;
  for (const auto& f : families()) {
    util::add_template_words(v, {f.fact, f.question});
    for (const auto& [s, val] : f.pairs) {
      util::add_words(v, s);
      util::add_words(v, val);
    }
  }
  util::add_words(v, letters());
  util::add_words(v, "Question : . Answer :");
  return util::to_vector(v);
}

}  // namespace mechscope::tasks
