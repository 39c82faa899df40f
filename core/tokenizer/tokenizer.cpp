#include "core/tokenizer/tokenizer.h"

#include "core/gguf/gguf_file.h"
#include "core/tokenizer/gguf_tokenizer.h"
#include "core/util/error.h"

namespace mechscope {

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path,
                                          int64_t vocab_size_hint) {
  const std::string extension = path.extension().string();
  if (extension == ".json") {
    // tokenizer_config.json beside tokenizer.json supplies BOS/EOS and add_bos_token.
    const std::filesystem::path config = path.parent_path() / "tokenizer_config.json";
    std::error_code ec;
    if (path.filename() != "tokenizer_config.json" &&
        std::filesystem::is_regular_file(config, ec)) {
      return load_hf_tokenizer(path, config);
    }
    return load_hf_tokenizer(path);
  }
  if (extension == ".bin") return load_llama2c_tokenizer(path, vocab_size_hint);
  if (extension == ".gguf") return load_gguf_tokenizer(gguf::File(path));
  throw Error("The tokenizer file " + path.string() +
              " is neither a Hugging Face tokenizer.json, a llama2.c tokenizer .bin nor a GGUF "
              "file.");
}

}  // namespace mechscope
