#pragma once
/// The embedded default models (data/models/), which the workbench and the CLI open when no
/// model is given. MECHSCOPE_DATA_DIR in the environment overrides where data/ is.
#include <filesystem>

namespace mechscope {

/// The data/ folder: $MECHSCOPE_DATA_DIR, else the source tree's data/ this build came from.
std::filesystem::path data_dir();
/// The default text model (a Hugging Face folder trained by mechscope).
std::filesystem::path default_model_path();
/// The default vision-language model (LLaVA layout).
std::filesystem::path default_vlm_path();

}  // namespace mechscope
