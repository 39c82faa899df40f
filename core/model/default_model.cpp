#include "core/model/default_model.h"

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace mechscope {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("MECHSCOPE_DATA_DIR")) return env;
  return MECHSCOPE_DEFAULT_DATA_DIR;
}

std::filesystem::path default_model_path() { return data_dir() / "models" / "mechscope-tiny-text"; }

std::filesystem::path default_vlm_path() { return data_dir() / "models" / "mechscope-tiny-vlm"; }

std::filesystem::path installed_models_dir() {
  if (const char* env = std::getenv("MECHSCOPE_MODELS_DIR")) return env;
  return data_dir().parent_path() / ".models";
}

std::vector<std::filesystem::path> installed_models() {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(installed_models_dir(), ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (it->is_directory(ec) && fs::exists(p / "config.json", ec)) {
      out.push_back(p);
      it.disable_recursion_pending();  // a model folder's own files are not models
    } else if (it->is_regular_file(ec) && p.extension() == ".gguf") {
      out.push_back(p);
    }
    if (it.depth() >= 1) it.disable_recursion_pending();
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mechscope
