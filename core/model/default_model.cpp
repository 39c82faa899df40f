#include "core/model/default_model.h"

#include <cstdlib>

namespace mechscope {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("MECHSCOPE_DATA_DIR")) return env;
  return MECHSCOPE_DEFAULT_DATA_DIR;
}

std::filesystem::path default_model_path() { return data_dir() / "models" / "mechscope-tiny-text"; }

std::filesystem::path default_vlm_path() { return data_dir() / "models" / "mechscope-tiny-vlm"; }

}  // namespace mechscope
