#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "probes/tasks/task.h"

namespace mechscope::tasks {

/// One shape of a shapes-VQA scene, in a cell of the 3×3 grid.
struct SceneShape {
  std::string shape;  ///< "circle", "square" or "triangle"
  std::string color;  ///< one of shapes_vqa_colors()
  int64_t row = 0;    ///< 0 (top) .. 2 (bottom)
  int64_t col = 0;    ///< 0 (left) .. 2 (right)
};

/// Image side in pixels (square images; each grid cell is a third of it).
inline constexpr int64_t kShapesImageSize = 48;

/// The shape words, colour words and position words ("top-left" .. "bottom-right") of the task.
const std::vector<std::string>& shapes_vqa_shapes();
const std::vector<std::string>& shapes_vqa_colors();
const std::vector<std::string>& shapes_vqa_positions();

/// The RGB value of a colour word; throws mechscope::Error for an unknown colour.
std::array<float, 3> shapes_vqa_rgb(const std::string& color);

/// The position word of a grid cell ("top-left", "top", .., "middle", .., "bottom-right").
std::string shapes_vqa_position(int64_t row, int64_t col);

/// Renders a scene on a black background, 4×4 supersampled (anti-aliased edges); each shape is
/// centred in its cell, so the pixel at (row * s + s / 2, col * s + s / 2), s = size / 3, has
/// exactly its colour.
Image render_shapes(const std::vector<SceneShape>& scene, int64_t size = kShapesImageSize);

/// Shapes VQA: a synthetic image of 1-3 coloured shapes on a 3x3 grid and a question about
/// colour, shape, position or existence. The prompt starts with the word <image>. The corrupted
/// example keeps the question and changes the image minimally (Example::corrupt_image).
class ShapesVqaTask : public Task {
 public:
  std::string name() const override;
  std::string description() const override;
  Example sample(std::mt19937_64& rng, const TaskOptions& options) const override;
  std::vector<std::string> vocabulary() const override;
};

}  // namespace mechscope::tasks
