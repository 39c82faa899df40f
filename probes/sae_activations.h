#pragma once
/// Where SAE training (probes/sae_train.h) and evaluation (probes/sae_evaluate.h) read
/// activations: prompts — a text file (one per line) or task-suite examples —, encoded in small
/// batches, run through the model up to the hook point only (the run stops there), and the token
/// vectors kept in a shuffled buffer of a few thousand rows that is refilled as it empties. The
/// whole data set is never held. Qt-free.
#include <ATen/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mechscope {
class Model;
}

namespace mechscope::probes {

/// The hook points an SAE can read: every point of the language model whose activation holds one
/// vector per position ([batch, pos, d] or per head [batch, pos, heads, d_head], which is read
/// flattened as SAELens' hook_z SAEs do), in forward order. Attention scores and patterns are not
/// among them.
std::vector<std::string> sae_hook_names(const Model& model);

/// Values per position at `hook` (the SAE's d_in). Throws mechscope::Error naming the hook and
/// listing the valid ones (grouped by layer: "blocks.{0-4}.hook_resid_pre") when it is not one.
int64_t sae_hook_width(const Model& model, const std::string& hook);

/// The text a task example's prompt words make for `model`: Example::text() (punctuation
/// attached, as subword tokenizers expect), or the words joined by single spaces when that text
/// would hold a word the model's word-level tokenizer does not know (mechscope's own models).
std::string task_prompt_text(const Model& model, const std::vector<std::string>& words);

/// A held-out text to measure an SAE on (probes/sae_evaluate.h).
struct SaeEvalText {
  std::string text;    ///< what the model reads
  /// Task examples: `text` is the prompt followed by its answer words and this is the prompt
  /// alone; reconstruction is measured on the prompt's positions and the next-token loss on the
  /// answer's tokens. Empty (prompts files): both are measured on every position.
  std::string prompt;
};

/// The prompts of one training run: an endless, seeded stream of training prompts and a set of
/// held-out ones.
/// - A prompts file (one prompt per line, blank lines skipped): every tenth line (lines 10, 20,
///   …; the last line when there are fewer than ten, none when there is one) is held out; the
///   others are the training prompts, read in a new seeded order each pass over them.
/// - Tasks ("induction" or "ioi,induction,…"): training prompt i is example i of task
///   i mod (number of tasks), drawn from tasks::example_seed(seed, i); held-out prompts are drawn
///   the same way from the seed + 1000003. Text tasks only (shapes_vqa needs images).
class SaePrompts {
 public:
  /// Throws mechscope::Error naming the file when it is missing, unreadable or holds no prompt.
  static SaePrompts from_file(const std::filesystem::path& file, uint64_t seed);
  /// Throws mechscope::Error naming an unknown task (and the known ones) or an image task.
  static SaePrompts from_tasks(const Model& model, const std::string& tasks, uint64_t seed);

  /// Training prompt `index` of the stream.
  std::string train(uint64_t index) const;
  /// Up to `n` held-out prompts (for a one-line file: that line, see heldout_is_separate());
  /// task examples carry their answers.
  std::vector<SaeEvalText> heldout(int64_t n) const;
  /// False only for a one-line prompts file, whose evaluation reads its training prompt.
  bool heldout_is_separate() const;
  /// "task induction" / "prompts.txt (120 lines, 12 held out)".
  std::string describe() const;
  /// The dataset as SAELens' cfg.json names it: the file's path, or "mechscope/tasks:<tasks>".
  std::string dataset_path() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

/// Prompts encoded with the model's tokenizer (BOS as it adds it), each cut to the model's
/// context (n_ctx), right-padded.
struct PromptBatch {
  at::Tensor tokens;  ///< [batch, pos] int64
  at::Tensor mask;    ///< [batch, pos] int64, 1 = real token
  bool bos_first = false;  ///< position 0 of every row holds the BOS token
};

/// Throws mechscope::Error when the model has no tokenizer.
PromptBatch encode_prompts(const Model& model, const std::vector<std::string>& prompts);

/// The activation at `hook` of a batch, [batch, pos, d_in] float32 (per-head points flattened);
/// the forward pass stops at the hook.
at::Tensor hook_activations(const Model& model, const std::string& hook, const PromptBatch& batch);

/// The positions an SAE trains and is measured on, [batch, pos] bool: real tokens, without
/// position 0 when it holds BOS (unless `include_bos`).
at::Tensor sae_positions(const PromptBatch& batch, bool include_bos);

/// Where the buffer is in the stream: the fill it serves (fill `fill` read the prompts from
/// `prompt_start` on) and the rows of that fill already handed out. A fill depends only on
/// (fill, prompt_start), so a checkpoint of this state restores the exact data order.
struct BufferState {
  int64_t fill = -1;          ///< -1: nothing read yet
  uint64_t prompt_start = 0;  ///< the first training prompt of this fill
  uint64_t next_prompt = 0;   ///< the first training prompt of the next fill
  int64_t consumed = 0;       ///< rows of this fill handed out
};

struct BufferOptions {
  int64_t capacity = 4096;    ///< token vectors per fill (a fill reads prompts until it has them)
  int64_t prompt_batch = 8;   ///< prompts per forward pass
  bool include_bos = false;
  uint64_t seed = 1;          ///< the shuffle of fill f is seeded by (seed, f)
};

/// The shuffled activation buffer. Each fill reads training prompts, prompt_batch at a time,
/// until it holds at least `capacity` vectors, and is served in a seeded random order; when
/// fewer rows remain than a batch asks for, they are dropped and the next fill is read.
class ActivationBuffer {
 public:
  ActivationBuffer(const Model& model, std::string hook, SaePrompts prompts, BufferOptions options);

  /// The next `n` rows [n, d_in] (float32, the model's device), in the shuffled order.
  at::Tensor next(int64_t n);
  /// Re-reads the fill `state` names and skips the rows it had handed out (resuming).
  void restore(const BufferState& state);
  const BufferState& state() const { return state_; }
  /// Every row of the current fill [rows, d_in] (undefined before the first).
  const at::Tensor& rows() const { return rows_; }
  /// Reads the first fill when nothing was read yet.
  void ensure_filled();

 private:
  void fill(int64_t index, uint64_t prompt_start);

  const Model& model_;
  std::string hook_;
  SaePrompts prompts_;
  BufferOptions options_;
  BufferState state_;
  at::Tensor rows_;   // [rows, d_in]
  at::Tensor order_;  // [rows] int64, the serving order
};

}  // namespace mechscope::probes
