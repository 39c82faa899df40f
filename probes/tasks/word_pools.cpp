#include "probes/tasks/word_pools.h"

namespace mechscope::tasks::pools {

const std::vector<std::string>& first_names() {
  static const std::vector<std::string> names = {
      "Aaron",  "Adam",    "Alan",   "Alex",   "Alice",    "Amy",      "Andrew", "Anna",   "Arthur",
      "Austin", "Blake",   "Brian",  "Carter", "Charles",  "Charlie",  "Daniel", "David",  "Dean",
      "Edward", "Emily",   "Eric",   "Eva",    "Frank",    "George",   "Grace",  "Henry",  "Ian",
      "Jack",   "Jacob",   "James",  "Jane",   "Jason",    "Jennifer", "John",   "Joseph", "Kate",
      "Kevin",  "Laura",   "Lisa",   "Lucy",   "Luke",     "Maria",    "Mark",   "Martin", "Mary",
      "Max",    "Michael", "Paul",   "Peter",  "Rachel",   "Robert",   "Rose",   "Ryan",   "Sarah",
      "Scott",  "Simon",   "Thomas", "Tom",    "Victoria", "William"};
  return names;
}

const std::vector<std::string>& colors() {
  static const std::vector<std::string> colors = {"red",    "orange", "yellow", "green", "blue",
                                                  "purple", "pink",   "brown",  "black", "white",
                                                  "gray",   "silver", "gold",   "teal"};
  return colors;
}

const std::vector<std::string>& nonsense_tokens() {
  static const std::vector<std::string> tokens = [] {
    std::vector<std::string> out;
    for (int i = 0; i < 200; ++i) {
      std::string n = std::to_string(i);
      out.push_back("tok_" + std::string(3 - n.size(), '0') + n);
    }
    return out;
  }();
  return tokens;
}

const std::vector<std::string>& ordinals() {
  static const std::vector<std::string> ordinals = {"first", "second", "third", "fourth", "fifth"};
  return ordinals;
}

}  // namespace mechscope::tasks::pools
