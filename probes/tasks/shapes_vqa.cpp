#include "probes/tasks/shapes_vqa.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/util/error.h"
#include "probes/tasks/task_util.h"

namespace mechscope::tasks {

namespace {

constexpr int64_t kGrid = 3;
constexpr int64_t kMaxShapes = 3;
constexpr int64_t kSupersample = 4;

struct Rgb {
  const char* name;
  std::array<float, 3> rgb;
};

const std::vector<Rgb>& palette() {
  static const std::vector<Rgb> p = {
      {"red", {0.9f, 0.1f, 0.1f}},    {"green", {0.1f, 0.75f, 0.2f}},
      {"blue", {0.15f, 0.3f, 0.95f}}, {"yellow", {0.95f, 0.9f, 0.1f}},
      {"purple", {0.6f, 0.2f, 0.8f}}, {"orange", {1.0f, 0.55f, 0.0f}},
  };
  return p;
}

// Whether (x, y) (pixel units, continuous) lies in `shape` centred at (cx, cy) with half-size r.
bool inside(const std::string& shape, double x, double y, double cx, double cy, double r) {
  const double dx = x - cx, dy = y - cy;
  if (shape == "circle") return dx * dx + dy * dy <= r * r;
  if (shape == "square") return std::abs(dx) <= r && std::abs(dy) <= r;
  // Triangle pointing up: apex (cx, cy - r), base from (cx - r, cy + r) to (cx + r, cy + r).
  if (dy < -r || dy > r) return false;
  return std::abs(dx) <= (dy + r) / 2.0;
}

enum class Kind { kColor, kShape, kPosition, kExists };

// Indices of scene shapes whose `key` (shape or colour) occurs exactly once.
std::vector<size_t> unique_by(const std::vector<SceneShape>& scene, bool by_shape) {
  std::vector<size_t> out;
  for (size_t i = 0; i < scene.size(); ++i) {
    int count = 0;
    for (const auto& s : scene) {
      count += by_shape ? s.shape == scene[i].shape : s.color == scene[i].color;
    }
    if (count == 1) out.push_back(i);
  }
  return out;
}

bool has(const std::vector<SceneShape>& scene, const std::string& shape, const std::string& color) {
  for (const auto& s : scene) {
    if (s.shape == shape && s.color == color) return true;
  }
  return false;
}

std::vector<SceneShape> random_scene(std::mt19937_64& rng) {
  const int64_t n = util::uniform_int(rng, 1, kMaxShapes);
  std::vector<SceneShape> scene;
  for (size_t cell : util::sample_indices(rng, kGrid * kGrid, static_cast<size_t>(n))) {
    scene.push_back({util::pick(rng, shapes_vqa_shapes()), util::pick(rng, shapes_vqa_colors()),
                     static_cast<int64_t>(cell) / kGrid, static_cast<int64_t>(cell) % kGrid});
  }
  return scene;
}

std::string other_than(std::mt19937_64& rng, const std::vector<std::string>& words,
                       const std::string& not_this) {
  std::vector<std::string> rest;
  for (const auto& w : words) {
    if (w != not_this) rest.push_back(w);
  }
  return util::pick(rng, rest);
}

nlohmann::json scene_json(const std::vector<SceneShape>& scene) {
  const int64_t cell = kShapesImageSize / kGrid;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : scene) {
    out.push_back({{"shape", s.shape},
                   {"color", s.color},
                   {"row", s.row},
                   {"col", s.col},
                   {"position", shapes_vqa_position(s.row, s.col)},
                   {"center_x", s.col * cell + cell / 2},
                   {"center_y", s.row * cell + cell / 2}});
  }
  return out;
}

}  // namespace

const std::vector<std::string>& shapes_vqa_shapes() {
  static const std::vector<std::string> s = {"circle", "square", "triangle"};
  return s;
}

const std::vector<std::string>& shapes_vqa_colors() {
  static const std::vector<std::string> c = [] {
    std::vector<std::string> out;
    for (const auto& p : palette()) out.push_back(p.name);
    return out;
  }();
  return c;
}

const std::vector<std::string>& shapes_vqa_positions() {
  static const std::vector<std::string> p = {"top-left",    "top",    "top-right",
                                             "left",        "middle", "right",
                                             "bottom-left", "bottom", "bottom-right"};
  return p;
}

std::array<float, 3> shapes_vqa_rgb(const std::string& color) {
  for (const auto& p : palette()) {
    if (color == p.name) return p.rgb;
  }
  throw Error("The shapes VQA task has no colour '" + color + "'.");
}

std::string shapes_vqa_position(int64_t row, int64_t col) {
  return shapes_vqa_positions()[static_cast<size_t>(row * kGrid + col)];
}

Image render_shapes(const std::vector<SceneShape>& scene, int64_t size) {
  Image image;
  image.height = image.width = size;
  image.pixels.assign(static_cast<size_t>(3 * size * size), 0.0f);  // black background
  const double cell = static_cast<double>(size) / kGrid;
  const double r = cell * 0.375;  // half-size: 6 px in a 16 px cell
  for (const auto& s : scene) {
    const auto rgb = shapes_vqa_rgb(s.color);
    // The centre is a pixel corner's integer coordinate + 0.5 so that its pixel is fully covered.
    const double cx = std::floor(s.col * cell + cell / 2) + 0.5;
    const double cy = std::floor(s.row * cell + cell / 2) + 0.5;
    const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(cx - r) - 1);
    const int64_t x1 = std::min<int64_t>(size - 1, static_cast<int64_t>(cx + r) + 1);
    const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(cy - r) - 1);
    const int64_t y1 = std::min<int64_t>(size - 1, static_cast<int64_t>(cy + r) + 1);
    for (int64_t y = y0; y <= y1; ++y) {
      for (int64_t x = x0; x <= x1; ++x) {
        int covered = 0;
        for (int64_t sy = 0; sy < kSupersample; ++sy) {
          for (int64_t sx = 0; sx < kSupersample; ++sx) {
            const double px = x + (sx + 0.5) / kSupersample;
            const double py = y + (sy + 0.5) / kSupersample;
            covered += inside(s.shape, px, py, cx, cy, r);
          }
        }
        if (covered == 0) continue;
        const float a = static_cast<float>(covered) / (kSupersample * kSupersample);
        for (int64_t c = 0; c < 3; ++c) {
          float& p = image.pixels[static_cast<size_t>((c * size + y) * size + x)];
          p = p * (1.0f - a) + rgb[static_cast<size_t>(c)] * a;
        }
      }
    }
  }
  return image;
}

std::string ShapesVqaTask::name() const { return "shapes_vqa"; }

std::string ShapesVqaTask::description() const {
  return "Shapes VQA: a 48x48 RGB image of 1-3 shapes (circle, square, triangle; red, green, "
         "blue, yellow, purple, orange) in the cells of a 3x3 grid, and a question: \"<image> "
         "What color is the circle ?\" -> red, \"<image> What shape is the red one ?\" -> "
         "circle, \"<image> Where is the square ?\" -> top-left .. bottom-right, \"<image> Is "
         "there a blue triangle ?\" -> yes / no. The corrupted example keeps the question and "
         "edits the image minimally (recolour, reshape or move the target, or add/remove the "
         "asked-for shape) so the answer changes: Example::corrupt_image, corrupt_answer.";
}

Example ShapesVqaTask::sample(std::mt19937_64& rng, const TaskOptions& options) const {
  const auto kind = static_cast<Kind>(util::uniform_int(rng, 0, 3));
  std::vector<SceneShape> scene;
  std::vector<size_t> candidates;
  // Colour and position questions name a shape that occurs once; shape questions a colour that
  // occurs once. Redraw until the scene allows the question (one-shape scenes always do).
  for (;;) {
    scene = random_scene(rng);
    if (kind == Kind::kExists) break;
    candidates = unique_by(scene, kind != Kind::kShape);
    if (!candidates.empty()) break;
  }

  Example ex;
  ex.task = name();
  std::vector<SceneShape> corrupt = scene;
  std::string question;
  int64_t target = -1;
  auto answer_of = [&](const std::vector<SceneShape>& s, const std::string& shape,
                       const std::string& color) -> std::string {
    if (kind == Kind::kExists) return has(s, shape, color) ? "yes" : "no";
    for (const auto& x : s) {
      if (kind == Kind::kShape && x.color == color) return x.shape;
      if (kind == Kind::kColor && x.shape == shape) return x.color;
      if (kind == Kind::kPosition && x.shape == shape) return shapes_vqa_position(x.row, x.col);
    }
    throw Error("Internal error: a shapes VQA scene lost its target.");
  };
  std::string shape, color;
  if (kind == Kind::kExists) {
    const bool yes = util::bernoulli(rng, 0.5);
    if (yes) {
      target = util::uniform_int(rng, 0, static_cast<int64_t>(scene.size()) - 1);
      shape = scene[target].shape;
      color = scene[target].color;
      // Corrupt: recolour every matching shape, so there is none.
      for (auto& s : corrupt) {
        if (s.shape == shape && s.color == color) {
          s.color = other_than(rng, shapes_vqa_colors(), color);
        }
      }
    } else {
      do {
        shape = util::pick(rng, shapes_vqa_shapes());
        color = util::pick(rng, shapes_vqa_colors());
      } while (has(scene, shape, color));
      // Corrupt: turn one shape into the asked-for one.
      auto& s = corrupt[util::uniform_int(rng, 0, static_cast<int64_t>(scene.size()) - 1)];
      s.shape = shape;
      s.color = color;
    }
    question = "Is there a " + color + " " + shape + " ?";
  } else {
    target = static_cast<int64_t>(util::pick(rng, candidates));
    SceneShape& t = corrupt[target];
    shape = scene[target].shape;
    color = scene[target].color;
    if (kind == Kind::kColor) {
      question = "What color is the " + shape + " ?";
      t.color = other_than(rng, shapes_vqa_colors(), t.color);
    } else if (kind == Kind::kShape) {
      question = "What shape is the " + color + " one ?";
      t.shape = other_than(rng, shapes_vqa_shapes(), t.shape);
    } else {
      question = "Where is the " + shape + " ?";
      std::vector<int64_t> free_cells;
      for (int64_t c = 0; c < kGrid * kGrid; ++c) {
        bool used = false;
        for (const auto& s : scene) used |= s.row * kGrid + s.col == c;
        if (!used) free_cells.push_back(c);
      }
      const int64_t cell = util::pick(rng, free_cells);
      t.row = cell / kGrid;
      t.col = cell % kGrid;
    }
  }
  ex.prompt = {"<image>"};
  util::append(ex.prompt, question);
  util::require_words(name(), static_cast<int64_t>(ex.prompt.size()), options.max_words);
  ex.corrupt = ex.prompt;
  ex.answer = {answer_of(scene, shape, color)};
  ex.corrupt_answer = {answer_of(corrupt, shape, color)};
  ex.image = render_shapes(scene);
  ex.corrupt_image = render_shapes(corrupt);
  static const char* kKindNames[] = {"color", "shape", "position", "exists"};
  ex.meta = {{"question_type", kKindNames[static_cast<int>(kind)]},
             {"image_position", 0},
             {"image_size", kShapesImageSize},
             {"objects", scene_json(scene)},
             {"corrupt_objects", scene_json(corrupt)},
             {"target_index", target},
             {"asked_shape", kind == Kind::kShape ? "" : shape},
             {"asked_color", kind == Kind::kColor || kind == Kind::kPosition ? "" : color}};
  return ex;
}

std::vector<std::string> ShapesVqaTask::vocabulary() const {
  std::set<std::string> v;
  util::add_words(v, shapes_vqa_shapes());
  util::add_words(v, shapes_vqa_colors());
  util::add_words(v, shapes_vqa_positions());
  util::add_words(v, "<image> What color is the ? shape one Where Is there a yes no");
  return util::to_vector(v);
}

}  // namespace mechscope::tasks
