#include "probes/position_roles.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/model/model.h"
#include "core/model/vision.h"
#include "core/util/error.h"

namespace mechscope::probes {

namespace {

std::vector<int64_t> range(int64_t a, int64_t b) {
  std::vector<int64_t> out;
  for (int64_t i = a; i < b; ++i) out.push_back(i);
  return out;
}

void normalise(PositionRoles& roles) {
  for (auto& [name, pos] : roles) {
    std::sort(pos.begin(), pos.end());
    pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
  }
}

}  // namespace

PositionRoles prompt_roles(const Model& model, const std::vector<int64_t>& tokens) {
  PositionRoles r;
  const int64_t T = int64_t(tokens.size());
  if (T == 0) return r;
  const auto bos = model.config().bos_token_id;
  const bool has_bos = bos && tokens[0] == *bos;
  if (has_bos) r["bos"] = {0};
  r["last"] = {T - 1};
  const auto kinds = model.position_kinds(tokens);
  int64_t after_image = has_bos ? 1 : 0;
  for (int64_t i = 0; i < T; ++i) {
    if (kinds[size_t(i)] == PositionKind::Image) {
      r["image"].push_back(i);
      after_image = i + 1;
    } else if (i > 0 || !has_bos) {
      r["text"].push_back(i);
    }
  }
  for (int64_t i = after_image; i < T - 1; ++i)
    if (kinds[size_t(i)] != PositionKind::Image) r["question"].push_back(i);
  if (r["question"].empty()) r.erase("question");
  return r;
}

RgbImage to_rgb(const tasks::Image& image) {
  RgbImage out;
  out.height = image.height, out.width = image.width;
  out.rgb.resize(size_t(image.height * image.width * 3));
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x)
      for (int64_t c = 0; c < 3; ++c)
        out.rgb[size_t((y * image.width + x) * 3 + c)] = static_cast<uint8_t>(
            std::lround(std::clamp(image.at(c, y, x), 0.0f, 1.0f) * 255.0f));
  return out;
}

TaskPrompt task_prompt(const Model& model, const tasks::Example& ex) {
  const Tokenizer* tok = model.tokenizer();
  if (tok == nullptr) throw Error("Task examples need a model with a tokenizer.");
  TaskPrompt p;
  std::vector<int64_t> words;
  for (const auto& w : ex.prompt) {
    const auto id = tok->token_to_id(w);
    if (!id)
      throw Error("The word '" + w + "' of the task '" + ex.task +
                  "' is not a token of this model: task examples need one of mechscope's "
                  "word-level models (data/models).");
    words.push_back(*id);
  }
  for (const auto& w : ex.answer) {
    const auto id = tok->token_to_id(w);
    if (!id) throw Error("The answer '" + w + "' is not a token of this model.");
    p.answer_ids.push_back(*id);
  }
  if (p.answer_ids.empty()) throw Error("A '" + ex.task + "' example has no answer.");
  p.answer_id = p.answer_ids.front();
  const auto bos = model.config().bos_token_id;
  const int64_t offset = bos ? 1 : 0;
  if (bos) p.tokens.push_back(*bos);
  p.tokens.insert(p.tokens.end(), words.begin(), words.end());
  // Word w sits at token offset + w, or n_image − 1 further on after an expanded image.
  int64_t image_word = -1, n_image = 1;
  if (ex.image && model.vision()) {
    p.image = to_rgb(*ex.image);
    const auto image_id = model.image_token_id();
    for (size_t i = 0; i < words.size(); ++i)
      if (image_id && words[i] == *image_id) image_word = int64_t(i);
    if (image_word >= 0) {
      n_image = model.vision()->tokens_per_image();
      p.tokens = model.expand_image_tokens(p.tokens);
    }
  } else if (ex.image) {
    throw Error("The task '" + ex.task + "' shows images; the model is not a vision-language model.");
  }
  auto pos = [&](int64_t w) { return offset + w + (image_word >= 0 && w > image_word ? n_image - 1 : 0); };
  p.roles = prompt_roles(model, p.tokens);
  const auto& m = ex.meta;
  const int64_t T = int64_t(p.tokens.size());
  if (m.contains("question_start"))
    p.roles["question"] = range(pos(m["question_start"].get<int64_t>()), T - 1);
  auto& subject = p.roles["subject"];
  if (ex.task == "needle") {
    for (int64_t w = m["needle_start"].get<int64_t>(); w < m["needle_end"].get<int64_t>(); ++w)
      subject.push_back(pos(w));
  } else if (ex.task == "ioi") {
    subject = {pos(m["s1_position"].get<int64_t>()), pos(m["s2_position"].get<int64_t>())};
  } else if (ex.task == "colored_objects") {
    const int64_t asked = m["asked_index"].get<int64_t>();
    subject = {pos(m["object_positions"][size_t(asked)].get<int64_t>()),
               pos(m["question_object_position"].get<int64_t>())};
  } else if (ex.task == "induction") {
    subject = {pos(m["source_position"].get<int64_t>())};
  } else if (ex.task == "shapes_vqa") {
    const std::string shape = m.value("asked_shape", ""), color = m.value("asked_color", "");
    for (size_t w = 0; w < ex.prompt.size(); ++w)
      if ((!shape.empty() && ex.prompt[w] == shape) || (!color.empty() && ex.prompt[w] == color))
        subject.push_back(pos(int64_t(w)));
  }
  if (subject.empty()) p.roles.erase("subject");
  // The asked shape's grid cell, as image patches.
  const int64_t target = m.value("target_index", int64_t(-1));
  if (image_word >= 0 && target >= 0 && m.contains("objects")) {
    const auto& cfg = model.vision()->config();
    const int64_t side = cfg.image_size / cfg.patch_size, first = pos(image_word);
    const int64_t size = m.value("image_size", cfg.image_size);
    const auto& obj = m["objects"][size_t(target)];
    const double cell = double(size) / 3.0;
    const double y0 = obj["row"].get<int64_t>() * cell, x0 = obj["col"].get<int64_t>() * cell;
    const int64_t skip = cfg.keep_class_token ? 1 : 0;
    for (int64_t py = 0; py < side; ++py)
      for (int64_t px = 0; px < side; ++px) {
        // A patch belongs to the cell its centre lies in (image pixels scale to the model's size).
        const double cy = (py + 0.5) * cfg.patch_size * double(size) / double(cfg.image_size);
        const double cx = (px + 0.5) * cfg.patch_size * double(size) / double(cfg.image_size);
        const bool inside = cy >= y0 && cy < y0 + cell && cx >= x0 && cx < x0 + cell;
        p.roles[inside ? "image_object" : "image_background"].push_back(first + skip + py * side + px);
      }
  }
  normalise(p.roles);
  return p;
}

std::vector<TaskPrompt> task_prompts(const Model& model, const std::string& task, int64_t n,
                                     uint64_t seed) {
  const auto t = tasks::make_task(task);
  const ModelConfig& c = model.config();
  // Words that fit the context: BOS, and an image's expansion beyond its one word.
  const int64_t extra = 1 + (model.vision() ? model.vision()->tokens_per_image() - 1 : 0);
  tasks::TaskOptions o;
  o.max_words = std::min<int64_t>(o.max_words, c.n_ctx - extra);
  std::vector<TaskPrompt> out;
  for (const auto& ex : tasks::generate(*t, seed, n, o)) out.push_back(task_prompt(model, ex));
  return out;
}

std::vector<std::string> task_choices() {
  std::vector<std::string> out = {""};
  for (const auto& name : tasks::task_names()) out.push_back(name);
  return out;
}

std::vector<int64_t> parse_positions(const std::string& spec, const PositionRoles& roles, int64_t T) {
  std::set<int64_t> out;
  auto index = [&](const std::string& s, bool end = false) -> int64_t {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != s.size() || s.empty()) return INT64_MIN;
    if (v < 0) v += T;
    if (v < 0 || v > T || (v == T && !end))
      throw Error("The position " + s + " is outside the prompt's " + std::to_string(T) + " positions.");
    return v;
  };
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    start = end + 1;
    if (item.empty()) continue;
    const size_t colon = item.find(':');
    if (colon != std::string::npos) {
      const int64_t a = index(item.substr(0, colon)), b_raw = index(item.substr(colon + 1), true);
      if (a == INT64_MIN || b_raw == INT64_MIN)
        throw Error("Cannot read the position range '" + item + "' (write e.g. 2:5).");
      for (int64_t i = a; i < b_raw; ++i) out.insert(i);
      continue;
    }
    if (const int64_t i = index(item); i != INT64_MIN) {
      out.insert(i);
      continue;
    }
    const auto it = roles.find(item);
    if (it == roles.end()) {
      std::string known;
      for (const auto& [name, pos] : roles) known += (known.empty() ? "" : ", ") + name;
      throw Error("This prompt has no '" + item + "' positions; it has: " + known +
                  " (or give indices such as 3, -1 or 2:5).");
    }
    out.insert(it->second.begin(), it->second.end());
  }
  if (out.empty()) throw Error("The position set '" + spec + "' is empty.");
  return {out.begin(), out.end()};
}

}  // namespace mechscope::probes
