#pragma once
/// Training sparse autoencoders on a model's activations at one hook point (namespace
/// mechscope::probes, library mechscope_probes: it reads the task suite; no Qt). The CLI's
/// `sae-train` and the workbench's Model ▸ Train SAE… dialog run it.
///
/// Data: prompts (a file or task examples, probes/sae_activations.h) run through the model in
/// small batches, stopped at the hook, into a shuffled buffer of a few thousand token vectors.
/// Activations are scaled by one factor s = √d_in / mean‖x‖ (from the first buffer fill: SAELens'
/// "expected_average_only_in"), so that the sparsity coefficient means the same at every hook and
/// model; the saved SAE reads raw activations (s folded in: b_enc and b_dec divided by s, so the
/// latents are in the activations' own units and the decoder rows stay unit norm).
///
/// Architectures (SAELens' names; cfg.apply_b_dec_to_input = true):
/// - standard ("relu"): f = ReLU(W_encᵀ(x − b_dec) + b_enc), x̂ = W_decᵀ f + b_dec; loss = ‖x − x̂‖²
///   (summed over d_in, mean over the batch) + λ Σᵢ fᵢ ‖W_dec,i‖ (SAELens' standard training
///   sparsity; the rows are unit norm, so this is the plain L1 norm of f).
/// - topk: the K largest pre-activations kept (ReLU'd), the others 0; loss = ‖x − x̂‖² plus the
///   AuxK loss (Gao et al. 2024): the residual x − x̂ reconstructed from the top min(d_in/2, dead)
///   pre-activations of the dead latents, weighted by aux_k_coefficient · min(dead / k_aux, 1).
///
/// Optimisation: Adam (written out here, as PyTorch's: its per-row state is reset when latents are
/// resampled and is checkpointed with the weights), constant learning rate. W_dec rows start as
/// random unit vectors and W_enc = W_decᵀ, b_enc = 0, b_dec = the mean of the first fill. Before
/// each step the gradient's component along each decoder row is removed; after it every row is
/// renormalised to unit length (SAELens).
///
/// Dead latents (Anthropic, "Towards Monosemanticity", and its April 2023 update): a latent that
/// has not fired in the last dead_window steps is dead. Every resample_every steps (while at least
/// resample_every steps remain), the dead latents are re-initialised toward badly reconstructed
/// inputs: inputs of the current buffer fill are drawn with probability ∝ (their squared error)²;
/// each dead latent's decoder row becomes its input minus b_dec, normalised; its encoder column
/// that direction × 0.2 × the mean encoder norm of the live latents; its b_enc 0; and its Adam
/// moments are zeroed.
///
/// Checkpoints: DIR/checkpoint.safetensors (weights, Adam moments, steps since each latent fired;
/// the recipe, step, buffer position and times in its metadata), written atomically every
/// checkpoint_every steps, at the end of training and when cancelled. A run finding a checkpoint
/// of the same recipe (every option but steps, checkpoint_every and eval_prompts, and the same
/// model file) continues from it: with the same steps it ends with exactly the weights of an
/// uninterrupted run (each buffer fill is re-read from its first prompt and reshuffled with its
/// own seed, resampling draws from a generator seeded by the step); with more steps it extends a
/// run (whose later resamplings then follow the new step count). A checkpoint of another recipe
/// is refused. On completion DIR holds the SAELens folder
/// (cfg.json, sae_weights.safetensors; core/sae/sae_io.h) and training.json.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/sae/sae.h"
#include "probes/sae_evaluate.h"

namespace mechscope {
class Model;
}

namespace mechscope::probes {

struct SaeTrainOptions {
  std::string hook;                  ///< hook point name (sae_hook_names)
  std::filesystem::path prompts;     ///< a prompts file (one per line), or
  std::string task;                  ///< task name(s), comma-separated (exactly one of the two)
  int64_t latents = 0;               ///< d_sae
  sae::Architecture architecture = sae::Architecture::Standard;  ///< Standard (relu) or TopK
  int64_t k = 0;                     ///< topk: latents kept per position; 0 = clamp(latents/8, 1, 64)
  double l1 = 1.0;                   ///< standard: sparsity coefficient λ (on scaled activations)
  int64_t steps = 2000;
  int64_t batch_size = 256;          ///< token vectors per step
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  int64_t buffer_size = 4096;        ///< token vectors per buffer fill (≥ batch_size)
  int64_t prompt_batch = 8;          ///< prompts per forward pass
  bool include_bos = false;          ///< train (and measure) on the BOS position too
  int64_t resample_every = 500;      ///< 0: never resample dead latents
  int64_t dead_window = 250;         ///< steps without firing after which a latent is dead
  double aux_k_coefficient = 1.0 / 32;  ///< topk: the AuxK loss weight (0: none)
  int64_t checkpoint_every = 200;    ///< 0: only at the end and when cancelled
  int64_t eval_prompts = 64;         ///< held-out prompts for the final metrics
  uint64_t seed = 1;

  /// k after the default is applied.
  int64_t effective_k() const;
  /// Every option (the recipe training.json and the checkpoint record).
  nlohmann::json to_json() const;
  /// Throws mechscope::Error naming the first invalid option and its value.
  void validate() const;
};

struct SaeTrainProgress {
  int64_t step = 0, steps = 0;  ///< steps done / in total
  double loss = 0;              ///< exponentially smoothed training loss (scaled activations)
  double mse = 0;               ///< smoothed ‖x − x̂‖² (the loss's term; scaled activations)
  double explained_variance = 0;  ///< smoothed, of the training batches
  double l0 = 0;                ///< smoothed active latents per token
  double dead_fraction = 0;     ///< latents that have not fired in the last dead_window steps
  double elapsed_seconds = 0, eta_seconds = 0;
  bool evaluating = false;      ///< training is done; the held-out evaluation runs (step = steps)
};

struct SaeResample {
  int64_t step = 0;
  int64_t latents = 0;
};

struct SaeTrainResult {
  bool cancelled = false;
  int64_t steps_done = 0;
  int64_t resumed_from = 0;     ///< the checkpoint's step (0: a fresh start)
  double seconds = 0;           ///< training time of every session together
  double activation_scale = 1;  ///< s
  std::vector<SaeResample> resamples;
  SaeMetrics metrics;           ///< held-out (not set when cancelled)
  std::shared_ptr<const sae::Sae> sae;  ///< the trained SAE (raw activations), when finished
  nlohmann::json log;           ///< training.json's content, when finished
};

/// The checkpoint file in `out_dir`.
std::filesystem::path sae_checkpoint_path(const std::filesystem::path& out_dir);

/// Trains an SAE on `model` into `out_dir` (created when missing). Continues from a checkpoint
/// of the same recipe there; with `require_checkpoint` a missing one is an error. `progress` is
/// called after every step and evaluation batch; returning false cancels (after a checkpoint is
/// written). A mechscope::Cancelled thrown by a CancelScope of the caller's thread is handled the
/// same way. `model_identity` (probes::model_identity, computed when null) names the model in
/// training.json and guards the checkpoint.
SaeTrainResult train_sae(const Model& model, const SaeTrainOptions& options,
                         const std::filesystem::path& out_dir, bool require_checkpoint = false,
                         const std::function<bool(const SaeTrainProgress&)>& progress = nullptr,
                         nlohmann::json model_identity = nullptr);

}  // namespace mechscope::probes
