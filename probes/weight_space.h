#pragma once
/// What the weight-space probes share: reading vectors of the residual stream through the final
/// norm and the unembedding in chunks (never a [rows, d_vocab] matrix for all rows at once),
/// layer lists, and the OV / QK factors of every head.
#include <ATen/Tensor.h>

#include <functional>
#include <string>
#include <vector>

namespace mechscope {
class Model;
}

namespace mechscope::probes {

/// "all", or layers like "0,3,5" / "2-4"; checked against the model.
std::vector<int> parse_layers(const Model& model, const std::string& text);

/// Residual-stream directions [n, d_model] as the final norm passes them on, up to the scale the
/// norm divides by: LayerNorm centres them and multiplies by the gain, RMSNorm multiplies by the
/// gain. (The direction's logits are these @ W_U.)
at::Tensor through_final_norm(const Model& model, const at::Tensor& vectors);

/// The k largest (and, with `bottom`, the k smallest) logits of each row of `vectors` [n, d_model]
/// @ W_U, computed `rows` at a time. Results are [n, k] on the CPU, ids as float.
struct VocabTopK {
  at::Tensor top_logit, top_token, bottom_logit, bottom_token;
};
VocabTopK vocab_top_k(const Model& model, const at::Tensor& vectors, int64_t k, bool bottom,
                      const std::function<void(int64_t done)>& on_chunk = {});

/// The factors of every head's circuits (TransformerLens shapes; a grouped-query head uses its
/// KV group's W_K / W_V): OV = W_V W_O, QK = W_Q W_Kᵀ. f32 on the model's device.
struct HeadFactors {
  at::Tensor W_Q, W_K, W_V;  // [layer, head, d_model, d_head]
  at::Tensor W_O;            // [layer, head, d_head, d_model]
};
HeadFactors head_factors(const Model& model);

/// The SVD of A B for A [..., m, r] and B [..., r, n] with r small, from the factors (QR of each,
/// then an r × r SVD): U [..., m, r], S [..., r] (descending), Vh [..., r, n].
struct FactoredSvd {
  at::Tensor U, S, Vh;
};
FactoredSvd factored_svd(const at::Tensor& A, const at::Tensor& B);

}  // namespace mechscope::probes
