// llama2.c checkpoints (.bin): a 7-int32 header, then float32 tensors. RoPE there rotates
// adjacent pairs; Q and K rows are permuted to the rotate-half convention at load.
#include <ATen/ATen.h>

#include <cstring>

#include "core/adapters/shards.h"
#include "core/io/mapped_file.h"
#include "core/model/loader.h"
#include "core/util/error.h"
#include "core/util/memory.h"

namespace mechscope {

std::unique_ptr<Model> load_llama2c(const std::filesystem::path& file, const LoadOptions& options) {
  auto mapped = MappedFile::open(file);
  const std::string where = file.string();
  if (mapped->size() < 28)
    throw Error("Invalid llama2.c checkpoint " + where + ": shorter than its 28-byte header.");
  int32_t h[7];
  std::memcpy(h, mapped->data(), sizeof h);
  const int64_t dim = h[0], hidden = h[1], n_layers = h[2], n_heads = h[3], n_kv = h[4],
                seq_len = h[6];
  const bool shared = h[5] > 0;
  const int64_t vocab = h[5] < 0 ? -int64_t(h[5]) : h[5];

  if (n_heads <= 0 || dim % n_heads != 0)
    throw Error("Invalid llama2.c checkpoint " + where + ": dim " + std::to_string(dim) +
                " is not divisible by n_heads " + std::to_string(n_heads) + ".");
  ModelConfig c = llama_layout_config(dim, n_layers, n_heads, n_kv, hidden, vocab, seq_len, 1e-5,
                                      10000.0, shared);
  c.architecture = "llama2.c";
  c.bos_token_id = 1;
  c.eos_token_id = 2;
  c.validate(where + " (header)");

  const int64_t kv_dim = n_kv * c.d_head;
  const int64_t L = n_layers;
  // Sizes in floats, in file order.
  const std::vector<std::pair<const char*, std::vector<int64_t>>> layout = {
      {"token_embedding", {vocab, dim}}, {"rms_att", {L, dim}},
      {"wq", {L, dim, dim}},             {"wk", {L, kv_dim, dim}},
      {"wv", {L, kv_dim, dim}},          {"wo", {L, dim, dim}},
      {"rms_ffn", {L, dim}},             {"w1", {L, hidden, dim}},
      {"w2", {L, dim, hidden}},          {"w3", {L, hidden, dim}},
      {"rms_final", {dim}},              {"freq_cis", {seq_len, c.d_head}},
  };
  uint64_t floats = 0;
  for (const auto& [name, shape] : layout) {
    uint64_t n = 1;
    for (auto d : shape) n *= static_cast<uint64_t>(d);
    floats += n;
  }
  if (!shared) floats += static_cast<uint64_t>(vocab) * dim;
  const uint64_t expected = 28 + floats * 4;
  if (mapped->size() != expected)
    throw Error("Invalid llama2.c checkpoint " + where + ": the header describes " +
                std::to_string(expected) + " bytes but the file has " +
                std::to_string(mapped->size()) + " (truncated, or not a llama2.c model).");
  check_fits_in_memory(floats * 4, "The model in " + where);

  std::map<std::string, at::Tensor> raw;
  const float* p = reinterpret_cast<const float*>(mapped->data() + 28);
  auto keep = mapped;
  for (const auto& [name, shape] : layout) {
    at::Tensor t = at::from_blob(const_cast<float*>(p), shape, [keep](void*) {}, at::kFloat);
    raw[name] = t;
    p += t.numel();
  }
  if (!shared) raw["wcls"] = at::from_blob(const_cast<float*>(p), {vocab, dim}, [keep](void*) {},
                                           at::kFloat);

  CanonicalTensors t;
  t["embed.weight"] = raw["token_embedding"];
  for (int64_t l = 0; l < L; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    t[b + "ln1.weight"] = raw["rms_att"][l];
    t[b + "attn.q.weight"] = pairs_to_halves(raw["wq"][l], n_heads);
    t[b + "attn.k.weight"] = pairs_to_halves(raw["wk"][l], n_kv);
    t[b + "attn.v.weight"] = raw["wv"][l];
    t[b + "attn.o.weight"] = raw["wo"][l];
    t[b + "ln2.weight"] = raw["rms_ffn"][l];
    t[b + "mlp.gate.weight"] = raw["w1"][l];
    t[b + "mlp.out.weight"] = raw["w2"][l];
    t[b + "mlp.in.weight"] = raw["w3"][l];
  }
  t["ln_final.weight"] = raw["rms_final"];
  if (!shared) t["unembed.weight"] = raw["wcls"];
  Weights weights = Weights::assemble(c, std::move(t), where);

  std::shared_ptr<const Tokenizer> tokenizer;
  if (options.tokenizer) {
    tokenizer = load_tokenizer(*options.tokenizer, vocab);
  } else if (std::filesystem::exists(file.parent_path() / "tokenizer.bin")) {
    tokenizer = load_llama2c_tokenizer(file.parent_path() / "tokenizer.bin", vocab);
  }
  return std::make_unique<Model>(std::move(c), std::move(weights), std::move(tokenizer),
                                 ModelSource{where, "llama2c"});
}

}  // namespace mechscope
