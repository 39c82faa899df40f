#pragma once
/// Image files for vision-language models: PNG and JPEG decoded to 8-bit RGB (libpng, libjpeg).
/// No LibTorch and no Qt: the CLI, the probes and the workbench read images the same way.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mechscope {

/// An 8-bit RGB image, row-major [height, width, 3].
struct RgbImage {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> rgb;
  bool empty() const { return rgb.empty(); }
};

/// The largest image accepted (width × height), so a hostile header cannot ask for gigabytes.
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 26;  // 64 Mpixel

/// Decodes PNG or JPEG bytes (told apart by their signature; alpha is composited on black, grey
/// and palette images become RGB). Throws mechscope::Error naming `name` and the problem
/// (unknown format, damaged data, too large).
RgbImage decode_image(const uint8_t* data, size_t size, const std::string& name);

/// Reads and decodes an image file; throws mechscope::Error naming the file.
RgbImage read_image_file(const std::filesystem::path& path);

}  // namespace mechscope
