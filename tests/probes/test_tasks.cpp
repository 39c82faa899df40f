// Tests the task generators of probes/tasks/: determinism, matched corrupted prompts, meta
// positions, answers agreeing with the instance, and the word-level tokenizer round trip.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "probes/tasks/shapes_vqa.h"
#include "probes/tasks/task.h"
#include "probes/tasks/vocabulary.h"

using namespace mechscope;
using namespace mechscope::tasks;

namespace {

constexpr int64_t kExamples = 200;

std::vector<Example> examples(const std::string& task, uint64_t seed = 7, int64_t n = kExamples,
                              TaskOptions options = {}) {
  return generate(*make_task(task), seed, n, options);
}

bool same(const Example& a, const Example& b) {
  return a.prompt == b.prompt && a.answer == b.answer && a.corrupt == b.corrupt &&
         a.corrupt_answer == b.corrupt_answer && a.meta == b.meta &&
         (a.image ? b.image && a.image->pixels == b.image->pixels : !b.image);
}

size_t pos(const nlohmann::json& meta, const char* key) { return meta.at(key).get<size_t>(); }

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("mechscope_test_tasks_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("The task registry lists nine tasks and rejects unknown names", "[tasks]") {
  const std::vector<std::string> expected = {"induction",       "ioi",          "greater_than",
                                             "needle",          "mqar",         "mc_letter",
                                             "colored_objects", "laundry_list", "shapes_vqa"};
  CHECK(task_names() == expected);
  for (const auto& name : expected) {
    auto task = make_task(name);
    CHECK(task->name() == name);
    CHECK_FALSE(task->description().empty());
  }
  try {
    make_task("nonsense");
    FAIL("make_task accepted an unknown name");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("needle") != std::string::npos);
  }
}

TEST_CASE("Every task is deterministic for a seed and independent of the batch size", "[tasks]") {
  for (const auto& name : task_names()) {
    INFO(name);
    const auto a = examples(name, 11, 20);
    const auto b = examples(name, 11, 20);
    const auto c = examples(name, 11, 5);
    const auto d = examples(name, 12, 20);
    for (size_t i = 0; i < a.size(); ++i) CHECK(same(a[i], b[i]));
    for (size_t i = 0; i < c.size(); ++i) CHECK(same(a[i], c[i]));
    int differing = 0;
    for (size_t i = 0; i < a.size(); ++i) differing += !same(a[i], d[i]);
    CHECK(differing >= 15);
    // Not the same example over and over.
    std::set<std::vector<std::string>> prompts;
    for (const auto& e : a) prompts.insert(e.prompt);
    CHECK(prompts.size() >= 10);
  }
}

TEST_CASE("Every task's examples are matched pairs of words from its vocabulary", "[tasks]") {
  for (const auto& task : all_tasks()) {
    INFO(task->name());
    const auto vocab_list = task->vocabulary();
    const std::set<std::string> vocab(vocab_list.begin(), vocab_list.end());
    CHECK(std::is_sorted(vocab_list.begin(), vocab_list.end()));
    for (const auto& ex : generate(*task, 3, kExamples, {})) {
      INFO(join(ex.prompt));
      CHECK(ex.task == task->name());
      CHECK_FALSE(ex.prompt.empty());
      CHECK(static_cast<int64_t>(ex.prompt.size()) <= TaskOptions{}.max_words);
      CHECK(ex.corrupt.size() == ex.prompt.size());
      CHECK_FALSE(ex.answer.empty());
      CHECK(ex.corrupt_answer.size() == ex.answer.size());
      for (const auto* words : {&ex.prompt, &ex.corrupt, &ex.answer, &ex.corrupt_answer}) {
        for (const auto& w : *words) {
          INFO(w);
          CHECK(vocab.count(w) == 1);
        }
      }
      CHECK_FALSE(ex.text().empty());
    }
  }
}

TEST_CASE("Every task fits small word budgets or says it cannot", "[tasks]") {
  for (const auto& task : all_tasks()) {
    for (int64_t max_words : {5, 12, 24, 40}) {
      INFO(task->name() << " with max_words " << max_words);
      TaskOptions options;
      options.max_words = max_words;
      try {
        for (const auto& ex : generate(*task, 1, 50, options)) {
          CHECK(static_cast<int64_t>(ex.prompt.size()) <= max_words);
        }
      } catch (const Error& e) {
        CHECK(std::string(e.what()).find("max_words") != std::string::npos);
      }
    }
  }
}

TEST_CASE("Induction: the answer is the copy of the repeated sequence", "[tasks]") {
  for (const auto& ex : examples("induction")) {
    const int64_t k = ex.meta.at("period");
    const int64_t m = ex.meta.at("repeated_words");
    REQUIRE(static_cast<int64_t>(ex.prompt.size()) == k + m);
    for (int64_t i = 0; i < m; ++i) CHECK(ex.prompt[k + i] == ex.prompt[i]);
    CHECK(ex.prompt[pos(ex.meta, "answer_source_position")] == ex.answer[0]);
    CHECK(ex.prompt[pos(ex.meta, "source_position")] == ex.prompt.back());
    // The first copy has no repeated word (the copy target is unambiguous), and the corrupted
    // first half shares no word with the clean sequence.
    std::set<std::string> first(ex.prompt.begin(), ex.prompt.begin() + k);
    CHECK(static_cast<int64_t>(first.size()) == k);
    for (int64_t i = 0; i < k; ++i) CHECK(first.count(ex.corrupt[i]) == 0);
    CHECK(std::equal(ex.prompt.begin() + k, ex.prompt.end(), ex.corrupt.begin() + k));
  }
}

TEST_CASE("IOI: S1, S2 and IO positions hold the names; the corruption is ABC", "[tasks]") {
  std::set<std::string> orders;
  std::set<int64_t> templates;
  for (const auto& ex : examples("ioi")) {
    INFO(ex.text());
    const std::string io = ex.meta.at("io"), s = ex.meta.at("s"), c = ex.meta.at("c");
    CHECK(ex.answer == std::vector<std::string>{io});
    CHECK(ex.corrupt_answer == std::vector<std::string>{s});
    CHECK(ex.prompt[pos(ex.meta, "io_position")] == io);
    CHECK(ex.prompt[pos(ex.meta, "s1_position")] == s);
    CHECK(ex.prompt[pos(ex.meta, "s2_position")] == s);
    CHECK(ex.corrupt[pos(ex.meta, "s2_position")] == c);
    CHECK(std::count(ex.prompt.begin(), ex.prompt.end(), io) == 1);
    CHECK(std::count(ex.prompt.begin(), ex.prompt.end(), s) == 2);
    CHECK(std::count(ex.corrupt.begin(), ex.corrupt.end(), s) == 1);
    CHECK(pos(ex.meta, "end_position") == ex.prompt.size() - 1);
    const bool abba = ex.meta.at("order") == "ABBA";
    CHECK((pos(ex.meta, "io_position") < pos(ex.meta, "s1_position")) == abba);
    orders.insert(ex.meta.at("order").get<std::string>());
    templates.insert(ex.meta.at("template_id").get<int64_t>());
    // Only S2 differs.
    int diffs = 0;
    for (size_t i = 0; i < ex.prompt.size(); ++i) diffs += ex.prompt[i] != ex.corrupt[i];
    CHECK(diffs == 1);
  }
  CHECK(orders.size() == 2);
  CHECK(templates.size() >= 15);
}

TEST_CASE("Greater-than: answers are years after the start year", "[tasks]") {
  for (const auto& ex : examples("greater_than")) {
    INFO(ex.text());
    const int xx = std::stoi(ex.meta.at("xx").get<std::string>());
    CHECK(xx >= 2);
    CHECK(xx <= 98);
    CHECK(ex.answer[0].size() == 2);
    CHECK(std::stoi(ex.answer[0]) > xx);
    CHECK(std::stoi(ex.corrupt_answer[0]) <= xx);
    CHECK(ex.meta.at("valid_answers").size() == static_cast<size_t>(99 - xx));
    for (const auto& v : ex.meta.at("valid_answers")) CHECK(std::stoi(v.get<std::string>()) > xx);
    CHECK(ex.prompt[pos(ex.meta, "xx_position")] == ex.meta.at("xx"));
    CHECK(ex.corrupt[pos(ex.meta, "xx_position")] == "01");
    CHECK(ex.prompt.back() == ex.meta.at("century"));
    CHECK(ex.prompt[pos(ex.meta, "start_century_position")] == ex.meta.at("century"));
    CHECK(pos(ex.meta, "end_century_position") == ex.prompt.size() - 1);
  }
}

TEST_CASE("Needle: the answer span holds the code and the prompt fits the budget", "[tasks]") {
  std::set<double> depths;
  for (int64_t max_words : {48, 128, 512}) {
    TaskOptions options;
    options.max_words = max_words;
    size_t longest = 0;
    for (const auto& ex : examples("needle", 5, kExamples, options)) {
      INFO(ex.text());
      CHECK(static_cast<int64_t>(ex.prompt.size()) <= max_words);
      longest = std::max(longest, ex.prompt.size());
      const size_t s = pos(ex.meta, "answer_start"), e = pos(ex.meta, "answer_end");
      REQUIRE(e - s == 3);
      CHECK(std::vector<std::string>(ex.prompt.begin() + s, ex.prompt.begin() + e) == ex.answer);
      CHECK(std::vector<std::string>(ex.corrupt.begin() + s, ex.corrupt.begin() + e) ==
            ex.corrupt_answer);
      for (size_t i = 0; i < 3; ++i) CHECK(ex.answer[i] != ex.corrupt_answer[i]);
      // The needle is a whole sentence at a sentence boundary.
      const size_t ns = pos(ex.meta, "needle_start"), ne = pos(ex.meta, "needle_end");
      CHECK(ex.prompt[ne - 1] == ".");
      CHECK((ns == 0 || ex.prompt[ns - 1] == "."));
      CHECK(ex.prompt.back() == "?");
      CHECK(ex.prompt[pos(ex.meta, "question_start") - 1] == ".");
      depths.insert(ex.meta.at("depth").get<double>());
      // Only the code differs.
      int diffs = 0;
      for (size_t i = 0; i < ex.prompt.size(); ++i) diffs += ex.prompt[i] != ex.corrupt[i];
      CHECK(diffs == 3);
    }
    CHECK(static_cast<int64_t>(longest) >= max_words * 3 / 4);
  }
  CHECK(depths.size() == 11);
  TaskOptions tiny;
  tiny.max_words = 10;
  CHECK_THROWS_AS(examples("needle", 1, 1, tiny), Error);
}

TEST_CASE("MQAR: keys from the lower half, values from the upper half", "[tasks]") {
  for (const auto& ex : examples("mqar")) {
    INFO(ex.text());
    const auto& pairs = ex.meta.at("pairs");
    std::set<std::string> keys;
    for (const auto& p : pairs) {
      CHECK(std::stoi(p[0].get<std::string>().substr(3)) < 128);
      CHECK(std::stoi(p[1].get<std::string>().substr(3)) >= 128);
      keys.insert(p[0].get<std::string>());
    }
    CHECK(keys.size() == pairs.size());
    CHECK(ex.prompt.back() == ex.meta.at("query_key"));
    CHECK(ex.prompt[pos(ex.meta, "key_position")] == ex.prompt.back());
    CHECK(ex.prompt[pos(ex.meta, "value_position")] == ex.answer[0]);
    CHECK(ex.corrupt[pos(ex.meta, "value_position")] == ex.corrupt_answer[0]);
    CHECK(ex.answer != ex.corrupt_answer);
    CHECK(pairs[pos(ex.meta, "query_pair_index")][1] == ex.answer[0]);
    CHECK(std::count(ex.corrupt.begin(), ex.corrupt.end(), ex.answer[0]) == 0);
    // Each predictable word is the value of the key just before it, as the pairs give it.
    CHECK(ex.meta.at("predictable").size() == ex.meta.at("earlier_queries").size());
    for (const auto& w : ex.meta.at("predictable")) {
      const size_t v = w.get<size_t>();
      REQUIRE(v >= 2 * pairs.size() + 1);
      const size_t k = std::find(ex.prompt.begin(), ex.prompt.end(), ex.prompt[v - 1]) -
                       ex.prompt.begin();
      CHECK(ex.prompt[k + 1] == ex.prompt[v]);
    }
  }
  TaskOptions small;
  small.max_words = 9;
  for (const auto& ex : examples("mqar", 1, 50, small)) CHECK(ex.prompt.size() <= 9);
}

TEST_CASE("MC letter: the answer letter labels the option the fact names", "[tasks]") {
  std::set<std::string> families;
  std::set<std::string> letters;
  for (const auto& ex : examples("mc_letter")) {
    INFO(ex.text());
    const size_t correct = ex.meta.at("correct_index");
    const std::string text = ex.meta.at("correct_text");
    const auto& letter_pos = ex.meta.at("letter_positions");
    const auto& option_pos = ex.meta.at("option_positions");
    CHECK(ex.prompt[letter_pos[correct].get<size_t>()] == ex.answer[0]);
    CHECK(ex.prompt[option_pos[correct].get<size_t>()] == text);
    CHECK(ex.prompt[pos(ex.meta, "answer_fact_value_position")] == text);
    CHECK(ex.answer[0] == std::string(1, static_cast<char>('A' + correct)));
    const size_t corrupt_correct = ex.meta.at("corrupt_correct_index");
    CHECK(corrupt_correct != correct);
    CHECK(ex.corrupt[option_pos[corrupt_correct].get<size_t>()] == text);
    CHECK(ex.corrupt_answer[0] == std::string(1, static_cast<char>('A' + corrupt_correct)));
    std::set<std::string> options(ex.meta.at("options").begin(), ex.meta.at("options").end());
    CHECK(options.size() == 4);
    CHECK(ex.prompt.back() == ":");
    families.insert(ex.meta.at("family").get<std::string>());
    letters.insert(ex.answer[0]);
  }
  CHECK(families.size() >= 6);
  CHECK(letters.size() == 4);
}

TEST_CASE("Colored objects: the answer is the asked object's colour", "[tasks]") {
  for (const auto& ex : examples("colored_objects")) {
    INFO(ex.text());
    const size_t asked = ex.meta.at("asked_index");
    const auto& objects = ex.meta.at("objects");
    CHECK(objects.size() >= 2);
    CHECK(objects.size() <= 5);
    CHECK(ex.prompt[pos(ex.meta, "question_object_position")] == objects[asked]);
    CHECK(ex.prompt[ex.meta.at("object_positions")[asked].get<size_t>()] == objects[asked]);
    CHECK(ex.prompt[pos(ex.meta, "answer_color_position")] == ex.answer[0]);
    CHECK(ex.prompt[pos(ex.meta, "answer_color_position") + 1] == objects[asked]);
    const size_t other = ex.meta.at("corrupt_asked_index");
    CHECK(other != asked);
    CHECK(ex.corrupt[pos(ex.meta, "question_object_position")] == objects[other]);
    CHECK(ex.corrupt_answer[0] == ex.meta.at("colors")[other]);
  }
}

TEST_CASE("Laundry list: the answer is the item at the asked ordinal", "[tasks]") {
  const std::vector<std::string> ordinals = {"first", "second", "third", "fourth", "fifth"};
  for (const auto& ex : examples("laundry_list")) {
    INFO(ex.text());
    const size_t asked = ex.meta.at("asked_index");
    CHECK(ex.meta.at("ordinal") == ordinals[asked]);
    CHECK(std::find(ex.prompt.begin(), ex.prompt.end(), ordinals[asked]) != ex.prompt.end());
    CHECK(ex.prompt[pos(ex.meta, "answer_position")] == ex.answer[0]);
    CHECK(ex.answer[0] == ex.meta.at("items")[asked]);
    CHECK(ex.corrupt[pos(ex.meta, "answer_position")] == ex.corrupt_answer[0]);
    CHECK(ex.corrupt_answer != ex.answer);
    const auto& item_pos = ex.meta.at("item_positions");
    for (size_t i = 0; i < item_pos.size(); ++i) {
      CHECK(ex.prompt[item_pos[i].get<size_t>()] == ex.meta.at("items")[i]);
    }
  }
}

TEST_CASE("Shapes VQA: images show the scene and answers agree with it", "[tasks]") {
  std::set<std::string> kinds;
  auto check_image = [](const Image& image, const nlohmann::json& objects) {
    REQUIRE(image.height == kShapesImageSize);
    REQUIRE(image.width == kShapesImageSize);
    REQUIRE(image.pixels.size() == static_cast<size_t>(3 * kShapesImageSize * kShapesImageSize));
    const auto [lo, hi] = std::minmax_element(image.pixels.begin(), image.pixels.end());
    CHECK(*lo >= 0.0f);
    CHECK(*hi <= 1.0f);
    for (const auto& o : objects) {
      const auto rgb = shapes_vqa_rgb(o.at("color"));
      const int64_t x = o.at("center_x"), y = o.at("center_y");
      for (int64_t c = 0; c < 3; ++c) CHECK(image.at(c, y, x) == Approx(rgb[c]));
    }
    CHECK(image.at(0, 0, 0) == 0.0f);  // background corner
  };
  auto answer_of = [](const nlohmann::json& objects, const nlohmann::json& meta) -> std::string {
    const std::string type = meta.at("question_type");
    const std::string shape = meta.at("asked_shape"), color = meta.at("asked_color");
    std::vector<std::string> matches;
    for (const auto& o : objects) {
      if (type == "exists" && o.at("shape") == shape && o.at("color") == color) return "yes";
      if (type == "color" && o.at("shape") == shape) matches.push_back(o.at("color"));
      if (type == "shape" && o.at("color") == color) matches.push_back(o.at("shape"));
      if (type == "position" && o.at("shape") == shape) matches.push_back(o.at("position"));
    }
    if (type == "exists") return "no";
    return matches.size() == 1 ? matches[0] : "<ambiguous>";
  };
  for (const auto& ex : examples("shapes_vqa")) {
    INFO(ex.text());
    REQUIRE(ex.image);
    REQUIRE(ex.corrupt_image);
    CHECK(ex.prompt[0] == "<image>");
    CHECK(ex.prompt.back() == "?");
    CHECK(ex.corrupt == ex.prompt);
    const auto& objects = ex.meta.at("objects");
    CHECK(objects.size() >= 1);
    CHECK(objects.size() <= 3);
    check_image(*ex.image, objects);
    check_image(*ex.corrupt_image, ex.meta.at("corrupt_objects"));
    CHECK(answer_of(objects, ex.meta) == ex.answer[0]);
    CHECK(answer_of(ex.meta.at("corrupt_objects"), ex.meta) == ex.corrupt_answer[0]);
    CHECK(ex.answer != ex.corrupt_answer);
    CHECK(ex.image->pixels != ex.corrupt_image->pixels);
    kinds.insert(ex.meta.at("question_type").get<std::string>());
  }
  CHECK(kinds.size() == 4);
}

TEST_CASE("Rendering attaches punctuation and joins digit words", "[tasks]") {
  CHECK(render_words({"When", "Mary", "went", "to", "the", "store", ",", "John", "gave"}) ==
        "When Mary went to the store, John gave");
  CHECK(render_words({"from", "17", "32", "to", "17"}) == "from 1732 to 17");
  CHECK(render_words({"is", "4", "7", "1", "."}) == "is 471.");
}

TEST_CASE("The project vocabulary round-trips through a word-level tokenizer.json", "[tasks]") {
  const auto vocab = project_vocabulary();
  std::cout << "mechscope task vocabulary: " << vocab.size() << " words\n";
  CHECK(vocab.size() < 2000);
  REQUIRE(vocab.size() > 5);
  CHECK(vocab[0] == "<pad>");
  CHECK(vocab[1] == "<bos>");
  CHECK(vocab[2] == "<eos>");
  CHECK(vocab[3] == "<unk>");
  CHECK(vocab[4] == "<image>");
  CHECK(std::is_sorted(vocab.begin() + 5, vocab.end()));
  CHECK(std::set<std::string>(vocab.begin(), vocab.end()).size() == vocab.size());

  const auto dir = temp_dir("tokenizer");
  write_word_level_tokenizer(dir / "tokenizer.json", vocab);
  REQUIRE(std::filesystem::exists(dir / "tokenizer_config.json"));
  const auto tokenizer = load_hf_tokenizer(dir / "tokenizer.json", dir / "tokenizer_config.json");
  CHECK(tokenizer->vocab_size() == static_cast<int64_t>(vocab.size()));
  CHECK(tokenizer->bos_id() == std::optional<int64_t>(1));
  CHECK(tokenizer->eos_id() == std::optional<int64_t>(2));
  for (size_t i = 0; i < vocab.size(); ++i) {
    CHECK(tokenizer->token_to_id(vocab[i]) == std::optional<int64_t>(i));
  }
  const auto unk = *tokenizer->token_to_id("<unk>");
  CHECK(tokenizer->encode("blorptastic", false).ids == std::vector<int64_t>{unk});

  for (const auto& task : all_tasks()) {
    INFO(task->name());
    for (const auto& ex : generate(*task, 99, kExamples, {})) {
      for (const auto* words : {&ex.prompt, &ex.corrupt}) {
        const std::string text = join(*words);
        const auto enc = tokenizer->encode(text);
        REQUIRE(enc.ids.size() == 1 + words->size());
        CHECK(enc.ids[0] == 1);
        CHECK(std::count(enc.ids.begin(), enc.ids.end(), unk) == 0);
        for (size_t i = 0; i < words->size(); ++i) {
          CHECK(tokenizer->token_string(enc.ids[i + 1]) == (*words)[i]);
        }
        // <image> is special, so decode without skipping special tokens (but without the BOS).
        CHECK(tokenizer->decode({enc.ids.begin() + 1, enc.ids.end()}, false) == text);
      }
      for (const auto& w : ex.answer) CHECK(tokenizer->token_to_id(w).has_value());
      for (const auto& w : ex.corrupt_answer) CHECK(tokenizer->token_to_id(w).has_value());
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("Example texts of every task", "[tasks][.print]") {
  for (const auto& task : all_tasks()) {
    for (const auto& ex : generate(*task, 2024, 2, {})) {
      std::cout << task->name() << ": " << ex.text() << "  ->  " << render_words(ex.answer)
                << "   | corrupt: " << render_words(ex.corrupt) << "  ->  "
                << render_words(ex.corrupt_answer) << "\n";
    }
  }
}
