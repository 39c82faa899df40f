// GGUF files (llama.cpp's format). Each `general.architecture` is the HF family it was converted
// from: its metadata becomes that family's config.json fields, read by the family's own adapter,
// and each HF tensor of the adapter's table is found under its GGUF name (gguf-py's
// tensor_mapping.py) with what convert_hf_to_gguf.py changed undone. So a GGUF model has exactly
// the config fields, canonical weights and hook points of the same model loaded from HF.
#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>

#include "core/adapters/families.h"
#include "core/adapters/shards.h"
#include "core/gguf/gguf_file.h"
#include "core/model/loader.h"
#include "core/tokenizer/gguf_tokenizer.h"
#include "core/util/error.h"
#include "core/util/memory.h"

namespace mechscope {
namespace {

/// What convert_hf_to_gguf.py did to an HF tensor, undone at load.
enum class Undo {
  None,
  RopePairsQ,  // Llama q/k rows permuted into llama.cpp's interleaved-pairs RoPE order
  RopePairsK,  //   (by n_heads for q, n_kv_heads for k): back to HF's rotate-half order
  Transpose,   // GPT-2's Conv1D weights stored as [out, in]
  NeoxQkv,     // GPT-NeoX's per-head q|k|v rows regrouped as all q | all k | all v
};

/// An HF module (without .weight/.bias) and its GGUF tensor name; "{L}" is the layer.
struct TensorName {
  std::string hf, gguf;
  Undo undo = Undo::None;
};

/// A GGUF metadata key (after "<arch>.") and the HF config.json field it sets.
struct ConfigKey {
  const char* gguf;
  const char* hf;
  bool required = false;
};

struct GgufArch {
  std::string name;             // general.architecture
  std::string hf_architecture;  // the adapter whose config reader and tensor table are used
  std::vector<ConfigKey> keys;
  std::vector<TensorName> tensors;
  bool partial_rotary = false;  // rope.dimension_count may be < the head size (GPT-NeoX)
  /// Config fields a family derives from several keys (`k` is "<arch>.").
  std::function<void(const gguf::File& f, const std::string& k, nlohmann::json& j)> extra;
};

// llama.cpp's names for Llama-like checkpoints (model.layers.{L}.…).
std::vector<TensorName> llama_like_names(bool rope_pairs) {
  const Undo q = rope_pairs ? Undo::RopePairsQ : Undo::None;
  const Undo k = rope_pairs ? Undo::RopePairsK : Undo::None;
  return {
      {"model.embed_tokens", "token_embd"},
      {"model.norm", "output_norm"},
      {"lm_head", "output"},
      {"model.layers.{L}.input_layernorm", "blk.{L}.attn_norm"},
      {"model.layers.{L}.self_attn.q_proj", "blk.{L}.attn_q", q},
      {"model.layers.{L}.self_attn.k_proj", "blk.{L}.attn_k", k},
      {"model.layers.{L}.self_attn.v_proj", "blk.{L}.attn_v"},
      {"model.layers.{L}.self_attn.o_proj", "blk.{L}.attn_output"},
      {"model.layers.{L}.post_attention_layernorm", "blk.{L}.ffn_norm"},
      {"model.layers.{L}.mlp.gate_proj", "blk.{L}.ffn_gate"},
      {"model.layers.{L}.mlp.up_proj", "blk.{L}.ffn_up"},
      {"model.layers.{L}.mlp.down_proj", "blk.{L}.ffn_down"},
  };
}

std::vector<TensorName> gemma_names(bool sandwich) {
  std::vector<TensorName> t = llama_like_names(false);
  t.push_back({"model.layers.{L}.self_attn.q_norm", "blk.{L}.attn_q_norm"});
  t.push_back({"model.layers.{L}.self_attn.k_norm", "blk.{L}.attn_k_norm"});
  if (sandwich) {  // Gemma 2/3: post_attention_layernorm is the attention OUTPUT's norm
    for (auto& n : t)
      if (n.gguf == "blk.{L}.ffn_norm") n.gguf = "blk.{L}.post_attention_norm";
    t.push_back({"model.layers.{L}.pre_feedforward_layernorm", "blk.{L}.ffn_norm"});
    t.push_back({"model.layers.{L}.post_feedforward_layernorm", "blk.{L}.post_ffw_norm"});
  }
  return t;
}

// transformers' GGUF_CONFIG_MAPPING for the Llama-like families, plus key/value lengths.
std::vector<ConfigKey> llama_like_keys() {
  return {
      {"embedding_length", "hidden_size", true},
      {"block_count", "num_hidden_layers", true},
      {"attention.head_count", "num_attention_heads", true},
      {"feed_forward_length", "intermediate_size", true},
      {"attention.head_count_kv", "num_key_value_heads"},
      {"context_length", "max_position_embeddings"},
      {"attention.layer_norm_rms_epsilon", "rms_norm_eps"},
      {"rope.freq_base", "rope_theta"},
      {"attention.key_length", "head_dim"},
  };
}

std::vector<ConfigKey> gemma2_like_keys() {
  std::vector<ConfigKey> k = llama_like_keys();
  k.push_back({"attn_logit_softcapping", "attn_logit_softcapping"});
  k.push_back({"final_logit_softcapping", "final_logit_softcapping"});
  k.push_back({"attention.sliding_window", "sliding_window"});
  k.push_back({"rope.freq_base_swa", "rope_local_base_freq"});
  return k;
}

/// Gemma 2/3: local layers as every n-th layer global (an integer) or one flag per layer (true =
/// local); scores scaled by attention.scale when given, else as llama.cpp does: 1/√key_length,
/// except the 27B models (`big_layers` layers), which use 1/√(d_model / n_heads).
void gemma2_like_extra(const gguf::File& f, const std::string& k, nlohmann::json& j,
                       int64_t big_layers) {
  if (const gguf::Value* p = f.find(k + "attention.sliding_window_pattern")) {
    if (p->type == gguf::ValueType::Array) {
      nlohmann::json types = nlohmann::json::array();
      for (const auto& flag : p->items)
        types.push_back(flag.integer ? "sliding_attention" : "full_attention");
      j["layer_types"] = types;
    } else {
      j["sliding_window_pattern"] = p->integer;
    }
  }
  const double scale = f.number(k + "attention.scale", 0);
  const int64_t d_model = f.integer(k + "embedding_length"),
                heads = f.integer(k + "attention.head_count");
  j["query_pre_attn_scalar"] = scale > 0 ? 1.0 / (scale * scale)
                               : f.integer(k + "block_count") == big_layers
                                   ? double(d_model / heads)
                                   : double(f.integer(k + "attention.key_length", 256));
}

const std::vector<GgufArch>& gguf_architectures() {
  static const std::vector<GgufArch> archs = {
      {"llama", "LlamaForCausalLM", llama_like_keys(), llama_like_names(true)},
      {"qwen2", "Qwen2ForCausalLM", llama_like_keys(), llama_like_names(false)},
      {"gemma", "GemmaForCausalLM", llama_like_keys(), gemma_names(false)},
      {"gemma2", "Gemma2ForCausalLM", gemma2_like_keys(), gemma_names(true), false,
       [](const gguf::File& f, const std::string& k, nlohmann::json& j) {
         gemma2_like_extra(f, k, j, /*big_layers=*/46);
       }},
      {"gemma3", "Gemma3ForCausalLM", gemma2_like_keys(), gemma_names(true), false,
       [](const gguf::File& f, const std::string& k, nlohmann::json& j) {
         gemma2_like_extra(f, k, j, /*big_layers=*/62);
       }},
      {"gpt2",
       "GPT2LMHeadModel",
       {{"embedding_length", "n_embd", true},
        {"block_count", "n_layer", true},
        {"attention.head_count", "n_head", true},
        {"feed_forward_length", "n_inner"},
        {"context_length", "n_positions", true},
        {"attention.layer_norm_epsilon", "layer_norm_epsilon"}},
       {{"transformer.wte", "token_embd"},
        {"transformer.wpe", "position_embd"},
        {"transformer.ln_f", "output_norm"},
        {"lm_head", "output"},
        {"transformer.h.{L}.ln_1", "blk.{L}.attn_norm"},
        {"transformer.h.{L}.attn.c_attn", "blk.{L}.attn_qkv", Undo::Transpose},
        {"transformer.h.{L}.attn.c_proj", "blk.{L}.attn_output", Undo::Transpose},
        {"transformer.h.{L}.ln_2", "blk.{L}.ffn_norm"},
        {"transformer.h.{L}.mlp.c_fc", "blk.{L}.ffn_up", Undo::Transpose},
        {"transformer.h.{L}.mlp.c_proj", "blk.{L}.ffn_down", Undo::Transpose}}},
      {"gptneox",
       "GPTNeoXForCausalLM",
       {{"embedding_length", "hidden_size", true},
        {"block_count", "num_hidden_layers", true},
        {"attention.head_count", "num_attention_heads", true},
        {"feed_forward_length", "intermediate_size", true},
        {"context_length", "max_position_embeddings", true},
        {"attention.layer_norm_epsilon", "layer_norm_eps"},
        {"use_parallel_residual", "use_parallel_residual"},
        {"rope.freq_base", "rotary_emb_base"}},
       {{"gpt_neox.embed_in", "token_embd"},
        {"gpt_neox.final_layer_norm", "output_norm"},
        {"embed_out", "output"},
        {"gpt_neox.layers.{L}.input_layernorm", "blk.{L}.attn_norm"},
        {"gpt_neox.layers.{L}.attention.query_key_value", "blk.{L}.attn_qkv", Undo::NeoxQkv},
        {"gpt_neox.layers.{L}.attention.dense", "blk.{L}.attn_output"},
        {"gpt_neox.layers.{L}.post_attention_layernorm", "blk.{L}.ffn_norm"},
        {"gpt_neox.layers.{L}.mlp.dense_h_to_4h", "blk.{L}.ffn_up"},
        {"gpt_neox.layers.{L}.mlp.dense_4h_to_h", "blk.{L}.ffn_down"}},
       /*partial_rotary=*/true},
  };
  return archs;
}

const GgufArch* find_gguf_arch(const std::string& name) {
  for (const auto& a : gguf_architectures())
    if (a.name == name) return &a;
  return nullptr;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

/// The GGUF name of an HF tensor name (`model.layers.3.self_attn.q_proj.weight` →
/// `blk.3.attn_q.weight`) and what to undo; nullptr when the table has no such module.
const TensorName* gguf_name(const GgufArch& a, const std::string& hf, std::string& out) {
  const size_t dot = hf.rfind('.');
  const std::string module = hf.substr(0, dot), suffix = hf.substr(dot);
  for (const auto& n : a.tensors) {
    const size_t l = n.hf.find("{L}");
    if (l == std::string::npos) {
      if (n.hf != module) continue;
      out = n.gguf + suffix;
      return &n;
    }
    const std::string before = n.hf.substr(0, l), after = n.hf.substr(l + 3);
    if (module.size() <= before.size() + after.size() || module.compare(0, l, before) != 0 ||
        module.compare(module.size() - after.size(), after.size(), after) != 0)
      continue;
    const std::string layer = module.substr(l, module.size() - before.size() - after.size());
    if (layer.find_first_not_of("0123456789") != std::string::npos) continue;
    out = n.gguf + suffix;
    replace_all(out, "{L}", layer);
    return &n;
  }
  return nullptr;
}

/// The shortest decimal that is the same float32 (the converter wrote 1e-05, the file holds
/// 9.99999974e-06): configs and `info` then show what was meant; f32 compute is unchanged.
double shortest_f32(double x) {
  char buf[32];
  for (int digits = 1; digits < 10; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (float(std::strtod(buf, nullptr)) == float(x)) return std::strtod(buf, nullptr);
  }
  return x;
}

nlohmann::json to_json(const gguf::Value& v) {
  using gguf::ValueType;
  switch (v.type) {
    case ValueType::Bool: return v.integer != 0;
    case ValueType::Float32: return shortest_f32(v.real);
    case ValueType::Float64: return v.real;
    case ValueType::String: return v.string;
    case ValueType::Array: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& item : v.items) a.push_back(to_json(item));
      return a;
    }
    default: return v.integer;
  }
}

/// The HF config.json the metadata describes (what transformers' load_gguf_checkpoint builds).
nlohmann::json hf_config(const gguf::File& f, const GgufArch& a, const std::string& source) {
  const std::string k = a.name + ".";
  nlohmann::json j = {{"architectures", {a.hf_architecture}}};
  for (const auto& key : a.keys) {
    if (key.required) f.require(k + key.gguf);
    if (const gguf::Value* v = f.find(k + key.gguf)) j[key.hf] = to_json(*v);
  }
  if (f.has(k + "attention.value_length") &&
      f.integer(k + "attention.value_length") != f.integer(k + "attention.key_length", -1))
    throw Error("The GGUF file " + source + " has attention.value_length ≠ key_length, which "
                "mechscope does not support (one head size for queries, keys and values).");
  const gguf::TensorInfo* embed = f.tensor("token_embd.weight");
  if (embed == nullptr || embed->dims.size() != 2)
    throw Error("The GGUF file " + source + " has no 2-D tensor token_embd.weight.");
  j["vocab_size"] = embed->shape()[0];
  j["tie_word_embeddings"] = f.tensor("output.weight") == nullptr;
  for (const std::string id : {"bos", "eos"}) {
    const std::string key = "tokenizer.ggml." + id + "_token_id";
    if (f.has(key)) j[id + "_token_id"] = f.integer(key);
  }
  const std::string scaling = f.string(k + "rope.scaling.type", "none");
  if (scaling != "none")
    j["rope_scaling"] = {{"rope_type", scaling},
                         {"factor", f.number(k + "rope.scaling.factor", 1)}};
  if (a.extra) a.extra(f, k, j);
  return j;
}

/// The tensor `t` (GGUF layout, f32) in the layout of the HF checkpoint it came from.
at::Tensor undo(Undo u, at::Tensor t, const ModelConfig& c) {
  switch (u) {
    case Undo::None: return t;
    case Undo::RopePairsQ: return pairs_to_halves(t, c.n_heads);
    case Undo::RopePairsK: return pairs_to_halves(t, c.n_kv_heads);
    case Undo::Transpose: return t.dim() == 2 ? t.t() : t;
    case Undo::NeoxQkv: {  // [3, H, d_head, …] → [H, 3, d_head, …]
      std::vector<int64_t> grouped = {3, c.n_heads, c.d_head};
      if (t.dim() == 2) grouped.push_back(t.size(1));
      return t.view(grouped).transpose(0, 1).reshape(t.sizes());
    }
  }
  return t;
}

}  // namespace

std::unique_ptr<Model> load_gguf(const std::filesystem::path& file, const LoadOptions& options) {
  const gguf::File f(file);
  const std::string source = file.string();
  const std::string arch_name = f.string("general.architecture");
  const GgufArch* arch = find_gguf_arch(arch_name);
  if (arch == nullptr) {
    std::string list;
    for (const auto& a : gguf_architectures()) list += (list.empty() ? "" : ", ") + a.name;
    throw Error("Unsupported GGUF architecture '" + arch_name + "' in " + source +
                " (supported: " + list + ").");
  }
  const Adapter* adapter = find_adapter(arch->hf_architecture);
  ModelConfig cfg = adapter->read_config(hf_config(f, *arch, source), source + " (GGUF metadata)");
  cfg.architecture = arch->hf_architecture;
  cfg.family = adapter->family;
  const std::string rope_dims = arch->name + ".rope.dimension_count";
  if (f.has(rope_dims)) {
    const int64_t n = f.integer(rope_dims);
    if (!arch->partial_rotary && n != cfg.d_head)
      throw Error("The GGUF file " + source + " rotates " + std::to_string(n) + " of " +
                  std::to_string(cfg.d_head) + " head dimensions (" + rope_dims +
                  "); partial rotary is not supported for " + arch->name + ".");
    cfg.rotary_dim = n;
  }
  cfg.validate(source + " (GGUF metadata)");

  // Check every tensor (presence, shape, type, size) before dequantizing any.
  TensorRules rules;
  adapter->tensors(cfg, rules);
  struct Planned {
    const TensorRule* rule;
    const gguf::TensorInfo* info;
    Undo undo;
  };
  std::vector<Planned> plan;
  std::set<std::string> used;
  uint64_t bytes = 0;
  for (const auto& rule : rules.rules()) {
    std::string name;
    const TensorName* map = gguf_name(*arch, rule.name, name);
    if (map == nullptr)
      throw Error("mechscope has no GGUF name for tensor '" + rule.name + "' of " +
                  arch->hf_architecture + " (loading " + source + ").");
    const gguf::TensorInfo* info = f.tensor(name);
    if (info == nullptr) {
      if (rule.optional) continue;
      throw Error("Tensor '" + name + "' is missing from " + source + " (" + arch->name +
                  " needs it).");
    }
    std::vector<int64_t> want = rule.shape;  // the HF shape, in GGUF layout
    if (map->undo == Undo::Transpose && want.size() == 2) std::swap(want[0], want[1]);
    if (info->shape() != want)
      throw Error("Tensor '" + name + "' in " + source + " has shape " + shape_str(info->shape()) +
                  " but its metadata implies " + shape_str(want) + ".");
    if (!gguf::can_dequantize(info->type))
      throw Error("Tensor '" + name + "' in " + source + " has type " +
                  gguf::tensor_type_name(info->type) + ", which mechscope cannot dequantize.");
    plan.push_back({&rule, info, map->undo});
    used.insert(name);
    bytes += uint64_t(info->numel()) * 4;
  }
  for (const auto& t : f.tensors())
    if (!used.count(t.name))
      throw Error("Tensor '" + t.name + "' in " + source + " is not part of mechscope's " +
                  arch->name + " model (an unsupported variant of the architecture).");
  check_fits_in_memory(bytes, "The model in " + source);

  CanonicalTensors canonical;
  for (const auto& p : plan) {
    at::Tensor t = at::empty(p.info->shape(), at::kFloat);
    gguf::dequantize_tensor(f, *p.info, t.data_ptr<float>());
    t = undo(p.undo, t, cfg);
    // llama.cpp's converters store every Gemma norm gain as 1 + w: the gain itself.
    if (p.rule->transform == Transform::PlusOne) {
      canonical[p.rule->slot] = t;
    } else {
      apply_rule(*p.rule, t, cfg, canonical);
    }
  }
  Weights weights = Weights::assemble(cfg, std::move(canonical), source);

  std::shared_ptr<const Tokenizer> tokenizer;
  if (options.tokenizer) {
    tokenizer = load_tokenizer(*options.tokenizer, cfg.d_vocab);
  } else if (f.has("tokenizer.ggml.model")) {
    tokenizer = load_gguf_tokenizer(f);
  }
  return std::make_unique<Model>(std::move(cfg), std::move(weights), std::move(tokenizer),
                                 ModelSource{source, "gguf"});
}

}  // namespace mechscope
