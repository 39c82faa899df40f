#include "probes/tasks/laundry_list.h"

#include <set>

#include "probes/tasks/task_util.h"
#include "probes/tasks/word_pools.h"

namespace mechscope::tasks {

namespace {

const std::vector<std::string>& items() {
  static const std::vector<std::string> i = {
      "apples", "bread",   "soap",    "milk",     "eggs",    "butter", "cheese",  "rice",
      "pasta",  "coffee",  "tea",     "sugar",    "flour",   "onions", "carrots", "potatoes",
      "lemons", "bananas", "oranges", "tomatoes", "shampoo", "towels", "candles", "batteries",
      "socks",  "stamps",  "honey",   "salt",     "pepper",  "yogurt", "cereal",  "beans"};
  return i;
}

// {LIST} is the list ("apples , bread and milk"); the question ends before the recalled item.
struct ListTemplate {
  const char* list;
  const char* question;
};

const std::vector<ListTemplate>& list_templates() {
  static const std::vector<ListTemplate> t = {
      {"I bought {LIST} .", "The {ORD} item was"},
      {"My shopping list : {LIST} .", "The {ORD} thing on the list was"},
      {"At the market I got {LIST} .", "The {ORD} thing I got was"},
      {"Mom asked me to buy {LIST} .", "The {ORD} item on her list was"},
      {"The laundry list says {LIST} .", "The {ORD} item on the list is"},
      {"We need {LIST} .", "The {ORD} thing we need is"},
  };
  return t;
}

constexpr int64_t kMinItems = 3;
constexpr int64_t kMaxItems = 5;

}  // namespace

std::string LaundryListTask::name() const { return "laundry_list"; }

std::string LaundryListTask::description() const {
  return "Laundry list (Merullo et al., Talking Heads): a list of 3-5 items, then a question by "
         "ordinal: \"I bought apples , bread , soap and milk . The second item was\" -> bread. "
         "The corrupted prompt lists the same items in another order, so a different item is at "
         "the asked position; corrupt_answer is that item.";
}

Example LaundryListTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  const int64_t n = util::uniform_int(rng, kMinItems, kMaxItems);
  const auto list = util::sample(rng, items(), static_cast<size_t>(n));
  const auto& templ = util::pick(rng, list_templates());
  const size_t asked = static_cast<size_t>(util::uniform_int(rng, 0, n - 1));
  // Another order that puts a different item at the asked position.
  std::vector<std::string> other = list;
  std::vector<size_t> perm;
  do {
    perm = util::sample_indices(rng, static_cast<size_t>(n), static_cast<size_t>(n));
  } while (perm[asked] == asked);
  for (size_t i = 0; i < perm.size(); ++i) other[i] = list[perm[i]];

  std::vector<size_t> item_pos;
  auto render = [&](const std::vector<std::string>& order, std::vector<size_t>* positions) {
    std::string joined;
    for (size_t i = 0; i < order.size(); ++i) {
      if (i > 0) joined += i + 1 == order.size() ? " and " : " , ";
      joined += order[i];
    }
    auto words = util::fill(templ.list, {{"LIST", joined}});
    if (positions) {
      const size_t start = util::slot(words, "LIST");
      for (size_t i = 0; i < order.size(); ++i) positions->push_back(start + 2 * i);
    }
    const auto question = util::fill(templ.question, {{"ORD", pools::ordinals()[asked]}});
    words.words.insert(words.words.end(), question.words.begin(), question.words.end());
    return words.words;
  };

  Example ex;
  ex.task = name();
  ex.prompt = render(list, &item_pos);
  ex.corrupt = render(other, nullptr);
  util::require_words(name(), static_cast<int64_t>(ex.prompt.size()), options.max_words);
  ex.answer = {list[asked]};
  ex.corrupt_answer = {other[asked]};
  ex.meta = {
      {"items", list},        {"corrupt_items", other},     {"ordinal", pools::ordinals()[asked]},
      {"asked_index", asked}, {"item_positions", item_pos}, {"answer_position", item_pos[asked]}};
  return ex;
}

std::vector<std::string> LaundryListTask::vocabulary() const {
  std::set<std::string> v;
  for (const auto& t : list_templates()) util::add_template_words(v, {t.list, t.question});
  util::add_words(v, items());
  util::add_words(v, pools::ordinals());
  util::add_words(v, ", and");
  return util::to_vector(v);
}

}  // namespace mechscope::tasks
