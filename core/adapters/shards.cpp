#include "core/adapters/shards.h"

#include <ATen/ATen.h>

#include <set>
#include <sstream>

#include "core/io/mapped_file.h"
#include "core/util/error.h"
#include "core/util/memory.h"

namespace mechscope {
namespace {

namespace fs = std::filesystem;

std::string qkv_slot(const std::string& slot, const char* part) {
  std::string s = slot;
  s.replace(s.find("{qkv}"), 5, part);
  return s;
}

}  // namespace

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "]";
  return o.str();
}

void apply_rule(const TensorRule& rule, at::Tensor t, const ModelConfig& cfg,
                CanonicalTensors& out) {
  switch (rule.transform) {
    case Transform::None: out[rule.slot] = t; return;
    case Transform::Transpose: out[rule.slot] = t.t(); return;
    case Transform::PlusOne: out[rule.slot] = t.to(at::kFloat) + 1.0; return;
    case Transform::SplitQKV: {
      at::Tensor rows = t.dim() == 2 ? t.t() : t;  // Conv1D [in, 3 out] → [3 out, in]
      // Already the fused q|k|v layout the forward pass uses: keep it whole (no copy).
      out[qkv_slot(rule.slot, "qkv")] = rows;
      auto parts = rows.chunk(3, 0);
      out[qkv_slot(rule.slot, "q")] = parts[0];
      out[qkv_slot(rule.slot, "k")] = parts[1];
      out[qkv_slot(rule.slot, "v")] = parts[2];
      return;
    }
    case Transform::SplitQKVHeads: {
      const int64_t H = cfg.n_heads, dh = cfg.d_head;
      // [H·3·d_head, …] laid out per head as q|k|v.
      at::Tensor per_head = t.dim() == 2 ? t.view({H, 3, dh, t.size(1)}) : t.view({H, 3, dh});
      const char* names[] = {"q", "k", "v"};
      for (int i = 0; i < 3; ++i) {
        at::Tensor part = per_head.select(1, i);
        out[qkv_slot(rule.slot, names[i])] =
            t.dim() == 2 ? part.reshape({H * dh, t.size(1)}) : part.reshape({H * dh});
      }
      return;
    }
  }
}

at::Tensor pairs_to_halves(const at::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0), hs = rows / heads;
  if (w.dim() == 1) return w.view({heads, hs / 2, 2}).transpose(1, 2).reshape({rows});
  return w.view({heads, hs / 2, 2, w.size(1)}).transpose(1, 2).reshape({rows, w.size(1)});
}

Shards::Shards(const fs::path& dir) {
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) {
    add(single);
    return;
  }
  if (!fs::exists(index))
    throw Error("No weights in " + dir.string() +
                ": expected model.safetensors or model.safetensors.index.json.");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(index));
  } catch (const nlohmann::json::exception& e) {
    throw Error("Invalid shard index " + index.string() + ": " + e.what() + ".");
  }
  if (!j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error("Invalid shard index " + index.string() + ": it has no weight_map object.");
  std::set<std::string> files;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string())
      throw Error("Invalid shard index " + index.string() + ": entry '" + it.key() +
                  "' does not name a file.");
    const std::string f = it.value().get<std::string>();
    if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
      throw Error("Invalid shard index " + index.string() + ": shard name '" + f +
                  "' is not a plain file name.");
    files.insert(f);
  }
  for (const auto& f : files) add(dir / f);
}

void Shards::add(const fs::path& p) {
  files_.push_back(std::make_unique<SafetensorsFile>(p));
  for (const auto& n : files_.back()->names()) where_[n] = files_.back().get();
}

std::pair<const SafetensorsFile*, std::string> Shards::find(
    const std::vector<std::string>& names) const {
  for (const auto& n : names) {
    auto it = where_.find(n);
    if (it != where_.end()) return {it->second, n};
  }
  return {nullptr, names.empty() ? std::string() : names.front()};
}

std::string Shards::describe() const {
  return files_.size() == 1 ? files_[0]->path().string()
                            : std::to_string(files_.size()) + " shards in " +
                                  files_[0]->path().parent_path().string();
}

std::vector<std::string> default_candidates(const std::string& name) {
  std::vector<std::string> out = {name};
  const auto dot = name.find('.');
  if (dot != std::string::npos) out.push_back(name.substr(dot + 1));
  return out;
}

CanonicalTensors read_rules(const TensorRules& rules, const Shards& shards, const ModelConfig& cfg,
                            const std::string& source, const NameCandidates& candidates) {
  // Check presence, shapes and total size before materialising anything.
  uint64_t bytes = 0;
  for (const auto& rule : rules.rules()) {
    auto [file, name] = shards.find(candidates(rule.name));
    if (file == nullptr) {
      if (rule.optional) continue;
      throw Error("Tensor '" + rule.name + "' is missing from " + shards.describe() + " (" +
                  cfg.architecture + " needs it).");
    }
    const auto& e = file->entry(name);
    if (e.shape != rule.shape)
      throw Error("Tensor '" + name + "' in " + file->path().string() + " has shape " +
                  shape_str(e.shape) + " but " + source + " implies " + shape_str(rule.shape) +
                  ".");
    uint64_t n = 1;
    for (auto d : e.shape) n *= static_cast<uint64_t>(d);
    bytes += n * 4;
  }
  check_fits_in_memory(bytes, "The model in " + shards.describe());
  CanonicalTensors canonical;
  for (const auto& rule : rules.rules()) {
    auto [file, name] = shards.find(candidates(rule.name));
    if (file != nullptr) apply_rule(rule, file->tensor(name, at::kFloat), cfg, canonical);
  }
  return canonical;
}

}  // namespace mechscope
