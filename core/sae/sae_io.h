#pragma once
/// SAELens folders: `cfg.json` + `sae_weights.safetensors` (W_enc, W_dec, b_enc, b_dec, and
/// threshold for jumprelu). Both the SAELens 6.x layout (hook name under "metadata") and the older
/// flat cfg.json (hook_name, activation_fn_str / activation_fn_kwargs.k at top level) are read.
#include <filesystem>

#include "core/sae/sae.h"

namespace mechscope::sae {

/// Reads an SAELens folder (or its cfg.json) as SAELens 6.54's SAE.load_from_disk does: the
/// layout is chosen by sae_lens_version (≥ 6: nested; missing or older: flat, converted as
/// handle_pre_6_0_config does), missing fields take SAELens' defaults (apply_b_dec_to_input
/// true, k 100). Tensors (F32, F16, BF16 or F64) are loaded as f32; a log_threshold becomes
/// threshold, a scaling_factor of ones is dropped. Throws mechscope::Error naming the file and
/// the problem: missing cfg.json, weights or tensor, bad JSON, unknown architecture, activation or
/// normalisation, sizes outside 1…2^24, k outside 1…d_sae, shapes that differ from the config,
/// tensors larger than the file, non-float, infinite or NaN tensors, or tensors the
/// architecture does not have.
Sae load_sae(const std::filesystem::path& folder);

enum class Layout { SaeLens6, Flat };

/// Writes `sae` as an SAELens folder (created when missing), atomically: cfg.json and
/// sae_weights.safetensors appear complete or not at all. A new folder is written as a hidden
/// sibling and renamed into place; in an existing folder (whose other files are kept) each file
/// is replaced by one rename, the weights first. Tensors are written as f32; cfg.extra is
/// written back. Flat: the SAELens < 6 layout (topk as architecture "standard" with
/// activation_fn_str "topk" and activation_fn_kwargs.k), which SAELens 6 still reads.
void save_sae(const Sae& sae, const std::filesystem::path& folder, Layout layout = Layout::SaeLens6);

}  // namespace mechscope::sae
