#pragma once
/// The embedded default models (data/models/), which the workbench and the CLI open when no
/// model is given. MECHSCOPE_DATA_DIR in the environment overrides where data/ is.
#include <filesystem>
#include <vector>

namespace mechscope {

/// The data/ folder: $MECHSCOPE_DATA_DIR, else the source tree's data/ this build came from.
std::filesystem::path data_dir();
/// The default text model (a Hugging Face folder trained by mechscope).
std::filesystem::path default_model_path();
/// The default vision-language model (LLaVA layout).
std::filesystem::path default_vlm_path();

/// Where `scripts/mechscope.sh models` installs real pretrained models: $MECHSCOPE_MODELS_DIR,
/// else `.models/` beside data/.
std::filesystem::path installed_models_dir();
/// The models installed there (searched two levels deep): GGUF files and Hugging Face folders
/// (with a config.json), sorted by path; empty when the folder does not exist.
std::vector<std::filesystem::path> installed_models();

}  // namespace mechscope
