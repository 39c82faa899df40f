#pragma once
/// Opening a model from what the user points at: a Hugging Face folder (config.json +
/// safetensors), a GGUF file (llama.cpp) or a llama2.c .bin file.
#include <filesystem>
#include <memory>
#include <optional>

#include <ATen/core/TensorBody.h>

#include "core/model/model.h"
#include "core/model/weight_processing.h"

namespace mechscope {

struct LoadOptions {
  /// A tokenizer file to use instead of the one found next to the model.
  std::optional<std::filesystem::path> tokenizer;
  at::Device device = at::kCPU;
  at::ScalarType dtype = at::kFloat;  // f16/bf16 are meant for CUDA
  /// TransformerLens weight processing applied after loading (core/model/weight_processing.h).
  WeightProcessing process;
};

/// Loads a model; throws mechscope::Error naming the file and the problem.
std::unique_ptr<Model> load_model(const std::filesystem::path& path, const LoadOptions& options = {});

/// Loaders of each format (load_model dispatches to them).
std::unique_ptr<Model> load_hf_folder(const std::filesystem::path& dir, const LoadOptions& options);
/// A GGUF file: `general.architecture` llama, qwen2, gemma, gemma2, gemma3, gpt2 or gptneox,
/// loaded as the HF family it was converted from (core/adapters/gguf.cpp); every tensor is
/// dequantized to f32. The tokenizer comes from the file's metadata unless options.tokenizer.
std::unique_ptr<Model> load_gguf(const std::filesystem::path& file, const LoadOptions& options);
std::unique_ptr<Model> load_llama2c(const std::filesystem::path& file, const LoadOptions& options);

/// The tokenizer for a model folder: `options.tokenizer` when given, else the folder's
/// tokenizer.json (+ tokenizer_config.json), else none.
std::shared_ptr<const Tokenizer> load_folder_tokenizer(const std::filesystem::path& dir,
                                                       const LoadOptions& options,
                                                       int64_t vocab_size);

/// Parses "cpu", "cuda", "cuda:1"; throws when CUDA is requested but not available.
at::Device parse_device(const std::string& name);

}  // namespace mechscope
