#include "core/model/kv_cache.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "core/model/config.h"
#include "core/util/error.h"

namespace mechscope {

void KVCache::prepare(const ModelConfig& cfg, int64_t batch, int64_t positions,
                      const at::TensorOptions& options) {
  // The storage is made and written in inference mode only, so it is always an inference tensor
  // (in-place writes to one are refused outside inference mode, and a normal tensor would keep
  // a version counter for nothing).
  c10::InferenceMode guard;
  const int64_t KV = cfg.n_kv_heads, dh = cfg.d_head;
  const bool same = !k_.empty() && int64_t(k_.size()) == cfg.n_layers &&
                    k_.front().size(0) == batch && k_.front().size(1) == KV &&
                    k_.front().size(3) == dh &&
                    k_.front().scalar_type() == options.dtype().toScalarType() &&
                    k_.front().device() == options.device();
  if (!same && length_ > 0)
    throw Error("This KV cache holds " + std::to_string(length_) +
                " positions of another model, batch size, dtype or device; clear it before "
                "running " +
                std::to_string(batch) + " sequence(s) of this model.");
  const int64_t needed = length_ + positions;
  if (same && needed <= capacity()) return;
  // Grow by doubling (or to the reserved size): [batch, KV, capacity, d_head] per layer, the
  // cached positions copied once.
  const int64_t cap = std::max({needed, reserved_, same ? 2 * capacity() : int64_t(0)});
  if (!same) {  // an empty cache adopts this run's model, batch, dtype and device
    k_.assign(cfg.n_layers, at::Tensor());
    v_.assign(cfg.n_layers, at::Tensor());
  }
  for (int l = 0; l < cfg.n_layers; ++l) {
    at::Tensor k = at::empty({batch, KV, cap, dh}, options);  // [batch, KV, capacity, d_head]
    at::Tensor v = at::empty({batch, KV, cap, dh}, options);
    if (length_ > 0) {  // only when `same`
      k.slice(2, 0, length_).copy_(k_[l].slice(2, 0, length_));
      v.slice(2, 0, length_).copy_(v_[l].slice(2, 0, length_));
    }
    k_[l] = k;
    v_[l] = v;
  }
}

std::pair<at::Tensor, at::Tensor> KVCache::append(int layer, const at::Tensor& k,
                                                  const at::Tensor& v) {
  c10::InferenceMode guard;
  const int64_t T = k.size(2), end = length_ + T;
  if (layer < 0 || layer >= int64_t(k_.size()) || end > capacity())
    throw Error("The KV cache was not prepared for this run (layer " + std::to_string(layer) +
                ", " + std::to_string(end) + " positions).");
  k_[layer].slice(2, length_, end).copy_(k);  // [batch, KV, T, d_head] written in place
  v_[layer].slice(2, length_, end).copy_(v);
  return {k_[layer].slice(2, 0, end), v_[layer].slice(2, 0, end)};  // [batch, KV, end, d_head]
}

}  // namespace mechscope
