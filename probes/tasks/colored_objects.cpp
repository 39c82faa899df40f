#include "probes/tasks/colored_objects.h"

#include <set>

#include "probes/tasks/task_util.h"
#include "probes/tasks/word_pools.h"

namespace mechscope::tasks {

namespace {

const std::vector<std::string>& objects() {
  static const std::vector<std::string> o = {
      "cup",     "book",     "pen",      "textbook", "puzzle", "mug",      "notebook",
      "pencil",  "keychain", "bracelet", "necklace", "scarf",  "hat",      "jacket",
      "plate",   "bowl",     "envelope", "crayon",   "jug",    "kite",     "ball",
      "stapler", "candle",   "lamp",     "phone",    "wallet", "umbrella", "clock"};
  return o;
}

const std::vector<std::string>& surfaces() {
  static const std::vector<std::string> s = {"table",   "desk", "floor", "shelf",
                                             "counter", "bed",  "chair", "nightstand"};
  return s;
}

bool starts_with_vowel(const std::string& w) {
  return !w.empty() && std::string("aeiou").find(w[0]) != std::string::npos;
}

constexpr int64_t kMinObjects = 2;
constexpr int64_t kMaxObjects = 5;

}  // namespace

std::string ColoredObjectsTask::name() const { return "colored_objects"; }

std::string ColoredObjectsTask::description() const {
  return "Colored objects (Merullo et al. 2023): \"Q : On the table , I see an orange textbook , "
         "a red puzzle , and a purple cup . What color is the textbook ? A :\" -> orange; 2-5 "
         "objects, each with a different colour. The corrupted prompt asks about a different "
         "object of the same list; corrupt_answer is that object's colour.";
}

Example ColoredObjectsTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  const int64_t n = util::uniform_int(rng, kMinObjects, kMaxObjects);
  const auto items = util::sample(rng, objects(), static_cast<size_t>(n));
  const auto colors = util::sample(rng, pools::colors(), static_cast<size_t>(n));
  const std::string surface = util::pick(rng, surfaces());
  const auto asked = util::sample_indices(rng, static_cast<size_t>(n), 2);

  std::vector<std::string> words;
  std::vector<size_t> color_pos, object_pos;
  util::append(words, "Q : On the " + surface + " , I see");
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0 && n > 2) words.push_back(",");
    if (i == n - 1) words.push_back("and");
    words.push_back(starts_with_vowel(colors[i]) ? "an" : "a");
    color_pos.push_back(words.size());
    words.push_back(colors[i]);
    object_pos.push_back(words.size());
    words.push_back(items[i]);
  }
  words.push_back(".");
  const size_t question_object_pos = words.size() + 4;  // "What color is the X"
  auto ask = [&](size_t i) {
    std::vector<std::string> out = words;
    util::append(out, "What color is the " + items[i] + " ? A :");
    return out;
  };

  Example ex;
  ex.task = name();
  ex.prompt = ask(asked[0]);
  ex.corrupt = ask(asked[1]);
  util::require_words(name(), static_cast<int64_t>(ex.prompt.size()), options.max_words);
  ex.answer = {colors[asked[0]]};
  ex.corrupt_answer = {colors[asked[1]]};
  ex.meta = {{"surface", surface},
             {"objects", items},
             {"colors", colors},
             {"object_positions", object_pos},
             {"color_positions", color_pos},
             {"asked_index", asked[0]},
             {"corrupt_asked_index", asked[1]},
             {"question_object_position", question_object_pos},
             {"answer_color_position", color_pos[asked[0]]}};
  return ex;
}

std::vector<std::string> ColoredObjectsTask::vocabulary() const {
  std::set<std::string> v;
  util::add_words(v, objects());
  util::add_words(v, surfaces());
  util::add_words(v, pools::colors());
  util::add_words(v, "Q : On the , I see a an and . What color is ? A");
  return util::to_vector(v);
}

}  // namespace mechscope::tasks
