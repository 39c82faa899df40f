#include "core/model/loader.h"

#include <ATen/Context.h>

#include "core/util/error.h"

namespace mechscope {

std::unique_ptr<Model> load_model(const std::filesystem::path& path, const LoadOptions& options) {
  if (!std::filesystem::exists(path))
    throw Error("Model path " + path.string() + " does not exist.");
  std::unique_ptr<Model> model;
  if (std::filesystem::is_directory(path)) {
    model = load_hf_folder(path, options);
  } else if (path.extension() == ".gguf") {
    model = load_gguf(path, options);
  } else if (path.extension() == ".bin") {
    model = load_llama2c(path, options);
  } else if (path.filename() == "config.json") {
    model = load_hf_folder(path.parent_path(), options);
  } else {
    throw Error("Cannot tell the format of " + path.string() +
                ": give a Hugging Face model folder (config.json + model.safetensors), a GGUF "
                "file (.gguf) or a llama2.c .bin file.");
  }
  if (options.dtype == at::kHalf && options.device.is_cpu())
    throw Error("float16 computation needs --device cuda; use float32 or bfloat16 on the CPU.");
  if (options.process.any() && !model->config().is_encoder())
    process_weights(*model, options.process);  // in the checkpoint's precision, before moving
  if (options.device != at::Device(at::kCPU) || options.dtype != at::kFloat)
    model->to(options.device, options.dtype);
  return model;
}

at::Device parse_device(const std::string& name) {
  if (name == "cpu") return at::kCPU;
  if (name.rfind("cuda", 0) == 0) {
    if (!at::hasCUDA())
      throw Error("--device " + name + " was requested but this LibTorch has no usable CUDA GPU.");
    return at::Device(name);
  }
  throw Error("Unknown device '" + name + "' (use cpu or cuda).");
}

}  // namespace mechscope
