#pragma once
// Helpers shared by the model tests: loading goldens and comparing tensors.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <string>

#include "core/io/safetensors.h"
#include "core/model/loader.h"
#include "tests/test_paths.h"

namespace mechscope::test {

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kCPU).to(at::kDouble) - b.to(at::kCPU).to(at::kDouble)).abs().max().item<double>();
}

inline std::filesystem::path golden_model(const std::string& name) {
  return golden_dir() / "models" / name;
}

/// The golden model names (one folder each in tests/golden/models).
inline std::vector<std::string> golden_model_names() {
  return {"gpt2",     "gpt2_untied_ln_eps", "neox_parallel",      "neox_sequential",
          "llama_gqa", "llama_tied_mha",    "llama3_rope_scaling", "llama_f16",
          "llama_bf16_sharded", "mistral_sliding", "qwen2",        "gemma",
          "gemma2",   "gemma3"};
}

}  // namespace mechscope::test
