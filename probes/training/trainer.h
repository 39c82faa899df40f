#pragma once
/// The trainer: a recipe → a Hugging Face-format model folder (config.json, model.safetensors,
/// tokenizer.json, tokenizer_config.json, training.json). Seeded and deterministic on the CPU;
/// checkpoints every few steps and resumes from them.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "probes/training/evaluate.h"
#include "probes/training/recipe.h"

namespace mechscope::training {

struct TrainProgress {
  int64_t step = 0;     // steps done
  int64_t steps = 0;    // steps in the recipe
  double loss = 0;      // smoothed training loss
  double lr = 0;
  double tokens_per_second = 0;
  double elapsed_seconds = 0;
  double eta_seconds = 0;
};

struct TrainResult {
  int64_t steps_done = 0;
  double seconds = 0;
  double final_loss = 0;
  std::map<std::string, TaskAccuracy> accuracy;  // held-out, per task
  bool cancelled = false;
};

/// Trains `recipe` into `out_dir`. With `resume`, continues from `out_dir/checkpoint` when it
/// exists. `progress` is called after every step; returning false cancels (a checkpoint is
/// written first, so training can resume).
TrainResult train(const Recipe& recipe, const std::filesystem::path& out_dir, bool resume,
                  const std::function<bool(const TrainProgress&)>& progress = nullptr);

}  // namespace mechscope::training
