#pragma once
/// A training recipe (JSON): the model shape, the task mixture, the optimiser and schedule.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model/config.h"

namespace mechscope::training {

/// The vision side of a vision-language recipe (LLaVA layout: CLIP-style tower + projector).
struct VisionRecipe {
  int64_t image_size = 48, patch_size = 8;
  int64_t d_model = 64, n_layers = 2, n_heads = 4, d_mlp = 128;
  int64_t feature_layer = -1;  // HF vision_feature_layer
  bool keep_class_token = false;
};

struct Recipe {
  std::string name = "mechscope-model";
  uint64_t seed = 1;
  // Model (Llama layout: RMSNorm, SwiGLU, rotary).
  int64_t d_model = 128, n_layers = 4, n_heads = 8, n_kv_heads = 8, d_mlp = 384, n_ctx = 160;
  double rope_theta = 10000.0;
  bool tied_embeddings = true;
  std::optional<VisionRecipe> vision;  // present for vision-language models
  // Data.
  std::map<std::string, double> tasks;  // task name → mixture weight
  /// Optional earlier phases: until step `until_step` (exclusive) the examples come from this
  /// phase's mixture instead (e.g. induction alone first, so the copying circuit forms before
  /// the other tasks compete for it). Phases are in increasing order of until_step.
  struct Phase {
    int64_t until_step = 0;
    std::map<std::string, double> tasks;
  };
  std::vector<Phase> curriculum;
  /// The mixture of step `step`: the first phase with step < until_step, else `tasks`.
  const std::map<std::string, double>& tasks_at(int64_t step) const;
  int64_t max_words = 120;              // prompt budget in words
  double lm_loss_weight = 0.25;         // weight of next-token loss on every prompt position
  // Optimisation.
  int64_t batch_size = 32;
  int64_t steps = 1000;
  double lr = 3e-3, min_lr_ratio = 0.1, weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95;
  int64_t warmup_steps = 100;
  double grad_clip = 1.0;
  /// A step's examples are sorted by length and split into this many micro-batches, each padded
  /// only to its own longest example; their gradients add up to the whole batch's (the loss is
  /// normalised by the whole batch's weight), so this only saves the work spent on padding.
  int64_t micro_batches = 1;
  int64_t checkpoint_every = 200;
  int64_t eval_examples = 300;

  /// The model configuration the recipe describes (vocabulary size from the tokenizer).
  ModelConfig model_config(int64_t d_vocab) const;
  nlohmann::json to_json() const;
  /// Learning rate at `step`: linear warm-up, then cosine decay to lr × min_lr_ratio.
  double lr_at(int64_t step) const;
};

/// Parses and checks a recipe; throws mechscope::Error naming the file and the field.
Recipe load_recipe(const std::filesystem::path& path);
Recipe parse_recipe(const nlohmann::json& j, const std::string& source);

}  // namespace mechscope::training
