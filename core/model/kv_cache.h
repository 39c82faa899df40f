#pragma once
/// A KV cache: the keys and values of the positions a model has already run, so that generation
/// computes only each new token's position instead of the whole sequence again.
#include <ATen/Tensor.h>
#include <c10/core/TensorOptions.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace mechscope {

struct ModelConfig;

/// Per-layer keys and values of positions 0 … length() - 1 of a batch of sequences, for
/// Model::run(…, cache). A run with a cache computes its T tokens as positions length() …
/// length() + T - 1 (rotary angles, learned position embeddings, causal masks and sliding windows
/// use these absolute positions), attends to the cached keys and values and its own, and appends
/// its own. Keys are stored as attention reads them: after hook_k, the q/k norms, the rotation and
/// hook_rot_k; values after hook_v — so an edit a hook made on the run that computed a position
/// holds for every later run, as it does when every run recomputes the whole sequence with that
/// hook.
///
/// Storage: per layer [batch, n_kv_heads, capacity, d_head], written in place (no copy of the
/// cache per run); it grows by doubling (one copy) when a run needs more than the capacity. A run
/// that throws or that a hook stops leaves length() unchanged: what it wrote past length() is not
/// counted and the next run overwrites it.
class KVCache {
 public:
  /// An empty cache; room for `capacity` positions is allocated on the first run (more when a run
  /// needs more). Generation reserves prompt + new tokens, at most n_ctx.
  explicit KVCache(int64_t capacity = 0) : reserved_(capacity) {}

  /// Positions cached.
  int64_t length() const { return length_; }
  /// Positions the storage holds before it must grow (0 before the first run).
  int64_t capacity() const { return k_.empty() ? 0 : k_.front().size(2); }
  /// Forgets every cached position (keeps the storage).
  void clear() { length_ = 0; }

  // Used by the forward pass (core/model/transformer.cpp).

  /// Checks that a run of `batch` sequences of `positions` new tokens of `cfg`'s model, computing
  /// in `options` (dtype, device), can continue this cache, and makes room for the new positions.
  /// Throws mechscope::Error when the cache holds positions of another model, batch size, dtype
  /// or device. An empty cache adopts the run's shapes.
  void prepare(const ModelConfig& cfg, int64_t batch, int64_t positions,
               const at::TensorOptions& options);
  /// Writes layer `layer`'s keys and values of the new positions ([batch, n_kv_heads, T, d_head]
  /// each) after the cached ones and returns the keys and values of every position, cached and
  /// new ([batch, n_kv_heads, length() + T, d_head] each; views of the storage).
  std::pair<at::Tensor, at::Tensor> append(int layer, const at::Tensor& k, const at::Tensor& v);
  /// Counts `positions` new positions as cached (once every layer has appended them).
  void commit(int64_t positions) { length_ += positions; }

 private:
  std::vector<at::Tensor> k_, v_;  // per layer [batch, n_kv_heads, capacity, d_head]
  int64_t length_ = 0;
  int64_t reserved_ = 0;
};

}  // namespace mechscope
