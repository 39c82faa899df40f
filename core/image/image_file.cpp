#include "core/image/image_file.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <csetjmp>
#include <jpeglib.h>
#include <png.h>
// clang-format on

#include <cstring>
#include <fstream>

#include "core/util/error.h"

namespace mechscope {

namespace {

void check_size(int64_t width, int64_t height, const std::string& name) {
  if (width <= 0 || height <= 0)
    throw Error(name + ": the image has no pixels (" + std::to_string(width) + " × " +
                std::to_string(height) + ").");
  if (width > kMaxImagePixels / height)
    throw Error(name + ": the image is " + std::to_string(width) + " × " + std::to_string(height) +
                " pixels, more than the " + std::to_string(kMaxImagePixels) + " accepted.");
}

RgbImage decode_png(const uint8_t* data, size_t size, const std::string& name) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, data, size))
    throw Error(name + ": not a readable PNG file (" + image.message + ").");
  check_size(image.width, image.height, name);
  image.format = PNG_FORMAT_RGB;
  RgbImage out;
  out.width = image.width, out.height = image.height;
  out.rgb.resize(size_t(PNG_IMAGE_SIZE(image)));
  png_color black{0, 0, 0};
  if (!png_image_finish_read(&image, &black, out.rgb.data(), 0, nullptr)) {
    std::string message = image.message;
    png_image_free(&image);
    throw Error(name + ": the PNG data is damaged (" + message + ").");
  }
  return out;
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
};

void jpeg_fail(j_common_ptr info) {
  auto* err = reinterpret_cast<JpegError*>(info->err);
  (*info->err->format_message)(info, err->message);
  std::longjmp(err->jump, 1);
}

void jpeg_quiet(j_common_ptr, int) {}  // warnings (e.g. trailing garbage) are not errors

RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  jpeg_decompress_struct info;
  JpegError err;
  info.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_quiet;
  RgbImage out;  // declared before setjmp: nothing with a destructor is created after it
  std::string problem;
  if (setjmp(err.jump)) {
    problem = err.message;
  } else {
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
    jpeg_read_header(&info, TRUE);
    if (int64_t(info.image_width) <= 0 || int64_t(info.image_height) <= 0 ||
        int64_t(info.image_width) > kMaxImagePixels / std::max<int64_t>(1, info.image_height)) {
      problem = "too large or empty: " + std::to_string(info.image_width) + " × " +
                std::to_string(info.image_height) + " pixels";
    } else {
      info.out_color_space = JCS_RGB;
      jpeg_start_decompress(&info);
      out.width = info.output_width, out.height = info.output_height;
      out.rgb.resize(size_t(out.width) * size_t(out.height) * 3);
      while (info.output_scanline < info.output_height) {
        JSAMPROW row = out.rgb.data() + size_t(info.output_scanline) * size_t(out.width) * 3;
        jpeg_read_scanlines(&info, &row, 1);
      }
      jpeg_finish_decompress(&info);
    }
  }
  jpeg_destroy_decompress(&info);
  if (!problem.empty()) throw Error(name + ": not a readable JPEG file (" + problem + ").");
  return out;
}

}  // namespace

RgbImage decode_image(const uint8_t* data, size_t size, const std::string& name) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return decode_png(data, size, name);
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return decode_jpeg(data, size, name);
  throw Error(name + ": not a PNG or JPEG image (unrecognised signature).");
}

RgbImage read_image_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error("Cannot read the image " + path.string() + ": " + ec.message() + ".");
  if (size > (uint64_t(1) << 30)) throw Error(path.string() + ": the image file is larger than 1 GiB.");
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes(size);
  if (!in || !in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size)))
    throw Error("Cannot read the image " + path.string() + ".");
  return decode_image(bytes.data(), bytes.size(), path.string());
}

}  // namespace mechscope
