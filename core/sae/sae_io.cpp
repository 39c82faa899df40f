// SAELens folders (cfg.json + sae_weights.safetensors), read as SAELens 6.54 reads them
// (loading/pretrained_sae_loaders.py: sae_lens_disk_loader, handle_config_defaulting,
// handle_pre_6_0_config, read_sae_components_from_disk) and written as SAE.save_model writes them.
#include "core/sae/sae_io.h"

#include <ATen/ATen.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <fstream>
#include <set>

#include "core/io/mapped_file.h"
#include "core/io/safetensors.h"
#include "core/util/error.h"

namespace mechscope::sae {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kCfgFile = "cfg.json";
constexpr const char* kWeightsFile = "sae_weights.safetensors";
constexpr int64_t kMaxWidth = int64_t(1) << 24;
/// The sae_lens_version written into the metadata of SAELens-6 folders that had none (SAELens
/// reads a cfg without one, or older than 6.0, as the flat layout).
constexpr const char* kSaeLensVersion = "6.54.12";

// SAELens' LLM_METADATA_KEYS: the flat-layout fields that SAELens 6 moves under "metadata".
const std::set<std::string>& metadata_keys() {
  static const std::set<std::string> keys = {
      "model_name",          "hook_name",       "model_class_name",
      "hook_head_index",     "model_from_pretrained_kwargs",
      "prepend_bos",         "exclude_special_tokens",
      "neuronpedia_id",      "context_size",    "seqpos_slice",
      "dataset_path",        "sae_lens_version", "sae_lens_training_version",
      "hook_name_out",       "hook_head_index_out",
      "hf_hook_name",        "hf_hook_name_out"};
  return keys;
}

/// The major version of an SAELens version string ("6.54.12" → 6); -1 when there is none.
int major_version(const json& v) {
  if (!v.is_string()) return -1;
  const std::string s = v.get<std::string>();
  size_t i = 0;
  while (i < s.size() && (s[i] == 'v' || s[i] == 'V')) ++i;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
  int major = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && major < 100000; ++i)
    major = major * 10 + (s[i] - '0');
  return major;
}

/// Reads the fields of a parsed cfg.json into SaeConfig; `file` names it in every error.
class CfgReader {
 public:
  CfgReader(json cfg, const fs::path& file) : cfg_(std::move(cfg)), where_(file.string()) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("The SAE config " + where_ + " " + what);
  }

  bool has(const std::string& key) const { return cfg_.contains(key) && !cfg_[key].is_null(); }

  /// Removes and returns a field ("null" when absent).
  json take(const std::string& key) {
    if (!cfg_.contains(key)) return json();
    json v = std::move(cfg_[key]);
    cfg_.erase(key);
    return v;
  }

  int64_t take_size(const std::string& key) {
    const json v = take(key);
    if (v.is_null()) fail("has no " + key + ".");
    if (!v.is_number_integer())
      fail("gives " + key + " as " + v.dump() + ", which is not a whole number.");
    if (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t(kMaxWidth)
                               : (v.get<int64_t>() < 1 || v.get<int64_t>() > kMaxWidth))
      fail("gives " + key + " = " + v.dump() + "; it must be between 1 and 2^24 (16777216).");
    return v.get<int64_t>();
  }

  bool take_bool(const std::string& key, bool fallback) {
    const json v = take(key);
    if (v.is_null()) return fallback;
    if (!v.is_boolean()) fail("gives " + key + " as " + v.dump() + ", which is not true or false.");
    return v.get<bool>();
  }

  std::string take_string(const std::string& key) {
    const json v = take(key);
    if (v.is_null()) return "";
    if (!v.is_string()) fail("gives " + key + " as " + v.dump() + ", which is not a string.");
    return v.get<std::string>();
  }

  json& rest() { return cfg_; }

 private:
  json cfg_;
  std::string where_;
};

Architecture read_architecture(CfgReader& r, const std::string& name) {
  if (name == "standard") return Architecture::Standard;
  if (name == "topk") return Architecture::TopK;
  if (name == "jumprelu") return Architecture::JumpReLU;
  r.fail("names the architecture '" + name +
         "', which mechscope cannot run; it knows standard, topk and jumprelu.");
}

void read_normalization(CfgReader& r, SaeConfig& c) {
  const json v = r.take("normalize_activations");
  if (v.is_null()) {
    c.normalize_activations = "none";
  } else if (v.is_boolean()) {  // SAELens < 6: true meant the April-2024 average-norm scaling
    c.normalize_activations = v.get<bool>() ? "expected_average_only_in" : "none";
  } else if (v.is_string()) {
    c.normalize_activations = v.get<std::string>();
  } else {
    r.fail("gives normalize_activations as " + v.dump() + ", which is not a string.");
  }
  if (!known_normalization(c.normalize_activations))
    r.fail("asks for normalize_activations '" + c.normalize_activations +
           "'; SAELens knows none, expected_average_only_in, constant_norm_rescale, layer_norm and "
           "covariance_whitening.");
}

void read_k(CfgReader& r, SaeConfig& c, const json& k) {
  if (c.architecture != Architecture::TopK) return;
  if (k.is_null()) {
    c.k = 100;  // TopKSAEConfig's default
  } else if (!k.is_number_integer()) {
    r.fail("gives k as " + k.dump() + ", which is not a whole number.");
  } else {
    c.k = k.is_number_unsigned() && k.get<uint64_t>() > uint64_t(kMaxWidth) ? kMaxWidth + 1
                                                                            : k.get<int64_t>();
  }
  if (c.k < 1 || c.k > c.d_sae)
    r.fail("gives k = " + std::to_string(c.k) + " for a topk SAE with d_sae " +
           std::to_string(c.d_sae) + "; k must be between 1 and d_sae.");
}

/// The SAELens 6 layout: core fields at the top, hook_name / model_name … under "metadata".
SaeConfig read_v6(CfgReader& r) {
  SaeConfig c;
  c.d_in = r.take_size("d_in");
  c.d_sae = r.take_size("d_sae");
  if (!r.has("architecture")) r.fail("has no architecture (SAELens 6 needs one).");
  c.architecture = read_architecture(r, r.take_string("architecture"));
  c.apply_b_dec_to_input = r.take_bool("apply_b_dec_to_input", true);
  read_normalization(r, c);
  const json k = r.take("k");
  const bool rescale = r.take_bool("rescale_acts_by_decoder_norm", false);
  read_k(r, c, k);
  if (c.architecture == Architecture::TopK) {
    c.rescale_acts_by_decoder_norm = rescale;
  } else if (!k.is_null() || rescale) {
    // Not a field of this architecture's config: SAELens ignores it; keep it for saving.
    if (!k.is_null()) r.rest()["k"] = k;
    if (rescale) r.rest()["rescale_acts_by_decoder_norm"] = true;
  }
  json meta = r.take("metadata");
  if (meta.is_null()) meta = json::object();
  if (!meta.is_object()) r.fail("has a metadata field that is not a JSON object.");
  for (const char* key : {"hook_name", "model_name"}) {
    if (!meta.contains(key)) continue;
    const json v = meta[key];
    meta.erase(key);
    if (v.is_null()) continue;
    if (!v.is_string())
      r.fail("gives metadata." + std::string(key) + " as " + v.dump() + ", which is not a string.");
    (std::string(key) == "hook_name" ? c.hook_name : c.model_name) = v.get<std::string>();
  }
  c.extra = std::move(r.rest());
  if (!meta.empty()) c.extra["metadata"] = std::move(meta);
  return c;
}

/// The flat layout of SAELens < 6, converted as handle_pre_6_0_config does.
SaeConfig read_flat(CfgReader& r) {
  SaeConfig c;
  c.d_in = r.take_size("d_in");
  c.d_sae = r.take_size("d_sae");
  // Renamed keys (hook_point → hook_name, …); the new name wins when both are present.
  for (auto [old_key, new_key] : {std::pair<const char*, const char*>{"hook_point", "hook_name"},
                                  {"hook_point_head_index", "hook_head_index"},
                                  {"activation_fn_str", "activation_fn"}}) {
    if (!r.rest().contains(old_key)) continue;
    json v = r.take(old_key);
    if (!r.rest().contains(new_key)) r.rest()[new_key] = std::move(v);
  }
  c.hook_name = r.take_string("hook_name");
  c.model_name = r.take_string("model_name");
  std::string activation = r.take_string("activation_fn");
  if (activation.empty()) activation = "relu";
  std::string arch = r.take_string("architecture");
  if (arch.empty()) arch = "standard";
  json kwargs = r.take("activation_fn_kwargs");
  if (!kwargs.is_null() && !kwargs.is_object())
    r.fail("gives activation_fn_kwargs as " + kwargs.dump() + ", which is not a JSON object.");
  json k = r.take("k");
  if (activation == "topk") {
    if (kwargs.is_object() && kwargs.contains("k") && !kwargs["k"].is_null()) {
      arch = "topk";
      k = kwargs["k"];
      kwargs.erase("k");
    } else if (arch != "topk") {
      r.fail("asks for the topk activation without activation_fn_kwargs.k.");
    }
  } else if (activation != "relu") {
    r.fail("asks for the activation function '" + activation +
           "'; SAELens 6 runs only relu (standard, jumprelu) and topk SAEs.");
  }
  c.architecture = read_architecture(r, arch);
  c.apply_b_dec_to_input = r.take_bool("apply_b_dec_to_input", true);
  read_normalization(r, c);
  const bool rescale = r.take_bool("rescale_acts_by_decoder_norm", false);
  read_k(r, c, k);
  if (c.architecture == Architecture::TopK) c.rescale_acts_by_decoder_norm = rescale;
  if (kwargs.is_object() && !kwargs.empty()) r.rest()["activation_fn_kwargs"] = kwargs;
  // Everything else as SAELens 6 nests it.
  json meta = json::object();
  json top = json::object();
  for (auto it = r.rest().begin(); it != r.rest().end(); ++it)
    (metadata_keys().count(it.key()) ? meta : top)[it.key()] = it.value();
  c.extra = std::move(top);
  if (!meta.empty()) c.extra["metadata"] = std::move(meta);
  return c;
}

at::Tensor read_tensor(const SafetensorsFile& file, const std::string& name,
                       const std::vector<int64_t>& shape, const SaeConfig& cfg,
                       const fs::path& cfg_path) {
  const std::string where = file.path().string();
  const SafetensorsEntry& e = file.entry(name);
  if (e.dtype != "F32" && e.dtype != "F16" && e.dtype != "BF16" && e.dtype != "F64")
    throw Error("The SAE weights " + where + " store " + name + " as " + e.dtype +
                "; SAE tensors must be floating point (F32, F16, BF16 or F64).");
  if (e.shape != shape) {
    auto text = [](const std::vector<int64_t>& s) {
      std::string out = "[";
      for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
      return out + "]";
    };
    throw Error("The SAE weights " + where + " do not match their config: " + name +
                " has shape " + text(e.shape) + ", expected " + text(shape) + " (d_in " +
                std::to_string(cfg.d_in) + ", d_sae " + std::to_string(cfg.d_sae) + " in " +
                cfg_path.string() + ").");
  }
  return file.tensor(name, at::kFloat);
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error("Cannot write " + path.string() + ".");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.flush();
  if (!out) throw Error("Writing " + path.string() + " failed (disk full?).");
}

json write_cfg(const SaeConfig& c, Layout layout) {
  json extra = c.extra.is_object() ? c.extra : json::object();
  json meta = json::object();
  if (extra.contains("metadata")) {
    if (extra["metadata"].is_object()) meta = extra["metadata"];
    extra.erase("metadata");
  }
  // Fields this config owns are written from it, never from extra (a non-topk SAE keeps a
  // stray k of its file in extra).
  for (const char* key : {"d_in", "d_sae", "architecture", "apply_b_dec_to_input",
                          "normalize_activations", "hook_name", "model_name", "hook_point",
                          "activation_fn", "activation_fn_str"})
    extra.erase(key);
  if (c.architecture == Architecture::TopK) {
    extra.erase("k");
    extra.erase("rescale_acts_by_decoder_norm");
  }
  meta.erase("hook_name");
  meta.erase("model_name");
  // SAELens decides the layout by sae_lens_version, at the top first, then in the metadata: a
  // top-level one must not contradict the layout written.
  const int top_version = major_version(extra.value("sae_lens_version", json()));
  if (extra.contains("sae_lens_version") && (layout == Layout::Flat) == (top_version >= 6))
    extra.erase("sae_lens_version");
  json cfg = extra;
  cfg["d_in"] = c.d_in;
  cfg["d_sae"] = c.d_sae;
  cfg["apply_b_dec_to_input"] = c.apply_b_dec_to_input;
  cfg["normalize_activations"] = c.normalize_activations;
  if (layout == Layout::SaeLens6) {
    // SAEConfig's fields that SAELens' save_model always writes.
    if (!cfg.contains("reshape_activations"))
      cfg["reshape_activations"] =
          c.hook_name.size() >= 6 && c.hook_name.compare(c.hook_name.size() - 6, 6, "hook_z") == 0
              ? "hook_z"
              : "none";
    if (!cfg.contains("dtype")) cfg["dtype"] = "float32";
    if (!cfg.contains("device")) cfg["device"] = "cpu";
    cfg["architecture"] = architecture_name(c.architecture);
    if (c.architecture == Architecture::TopK) {
      cfg["k"] = c.k;
      cfg["rescale_acts_by_decoder_norm"] = c.rescale_acts_by_decoder_norm;
    }
    // SAELens reads a cfg whose version is missing or older than 6 as the flat layout.
    const json old_version = meta.value("sae_lens_version", json());
    if (major_version(old_version) < 6) {
      if (!meta.contains("sae_lens_training_version") && old_version.is_string())
        meta["sae_lens_training_version"] = old_version;  // what it was made with
      meta["sae_lens_version"] = kSaeLensVersion;
    }
    if (!meta.contains("sae_lens_training_version"))
      meta["sae_lens_training_version"] = meta["sae_lens_version"];
    meta["hook_name"] = c.hook_name.empty() ? json() : json(c.hook_name);
    meta["model_name"] = c.model_name.empty() ? json() : json(c.model_name);
    cfg["metadata"] = std::move(meta);
  } else {
    // SAELens < 6: topk is the standard architecture with the topk activation function.
    cfg["architecture"] =
        c.architecture == Architecture::JumpReLU ? "jumprelu" : "standard";
    cfg["activation_fn_str"] = c.architecture == Architecture::TopK ? "topk" : "relu";
    json kwargs = cfg.contains("activation_fn_kwargs") && cfg["activation_fn_kwargs"].is_object()
                      ? cfg["activation_fn_kwargs"]
                      : json::object();
    if (c.architecture == Architecture::TopK) {
      kwargs["k"] = c.k;
      if (c.rescale_acts_by_decoder_norm) cfg["rescale_acts_by_decoder_norm"] = true;
    }
    cfg["activation_fn_kwargs"] = kwargs;
    // A version of 6 or later would make SAELens read the file as the 6.x layout.
    if (major_version(meta.value("sae_lens_version", json())) >= 6) meta.erase("sae_lens_version");
    for (auto it = meta.begin(); it != meta.end(); ++it)
      if (!cfg.contains(it.key())) cfg[it.key()] = it.value();
    cfg["hook_name"] = c.hook_name.empty() ? json() : json(c.hook_name);
    if (!c.model_name.empty()) cfg["model_name"] = c.model_name;
  }
  return cfg;
}

}  // namespace

Sae load_sae(const fs::path& given) {
  fs::path folder = given;
  std::error_code ec;
  if (fs::is_regular_file(given, ec)) folder = given.parent_path();
  if (folder.empty()) folder = ".";
  if (!fs::exists(folder, ec))
    throw Error("The SAE folder " + given.string() + " does not exist.");
  if (!fs::is_directory(folder, ec))
    throw Error("The SAE path " + given.string() +
                " is neither an SAELens folder nor the cfg.json in one.");
  const fs::path cfg_path = folder / kCfgFile;
  const fs::path weights_path = folder / kWeightsFile;
  if (!fs::is_regular_file(cfg_path, ec))
    throw Error("The SAE folder " + folder.string() + " has no " + kCfgFile +
                " (an SAELens folder holds cfg.json and sae_weights.safetensors).");
  if (!fs::is_regular_file(weights_path, ec))
    throw Error("The SAE folder " + folder.string() + " has no " + kWeightsFile + " next to " +
                kCfgFile + ".");

  const auto cfg_size = fs::file_size(cfg_path, ec);
  if (!ec && cfg_size > (64u << 20))
    throw Error("The SAE config " + cfg_path.string() + " is " + std::to_string(cfg_size) +
                " bytes long; a cfg.json of more than 64 MiB is not an SAE config.");
  json parsed;
  try {
    parsed = json::parse(read_text_file(cfg_path));
  } catch (const json::exception& e) {
    throw Error("The SAE config " + cfg_path.string() + " is not valid JSON (" + e.what() + ").");
  }
  if (!parsed.is_object())
    throw Error("The SAE config " + cfg_path.string() + " is not a JSON object.");

  // handle_config_defaulting: the flat layout unless a version ≥ 6 is given, at the top or in
  // the metadata.
  json version = parsed.value("sae_lens_version", json());
  if ((version.is_null() || version == "") && parsed.contains("metadata") &&
      parsed["metadata"].is_object())
    version = parsed["metadata"].value("sae_lens_version", json());
  CfgReader reader(parsed, cfg_path);
  Sae sae;
  sae.cfg = major_version(version) >= 6 ? read_v6(reader) : read_flat(reader);
  const SaeConfig& c = sae.cfg;

  const SafetensorsFile file(weights_path);
  const std::string where = weights_path.string();
  std::set<std::string> expected = {"W_enc", "W_dec", "b_enc", "b_dec"};
  if (c.architecture == Architecture::JumpReLU) expected.insert("threshold");
  for (const std::string& name : file.names()) {
    if (expected.count(name) || name == "scaling_factor") continue;
    if (name == "log_threshold" && c.architecture == Architecture::JumpReLU) continue;
    throw Error("The SAE weights " + where + " hold a tensor '" + name + "', which a " +
                architecture_name(c.architecture) +
                " SAE does not have (SAELens refuses such a file too).");
  }
  for (const std::string& name : expected) {
    if (file.contains(name)) continue;
    if (name == "threshold" && file.contains("log_threshold")) continue;
    throw Error("The SAE weights " + where + " have no tensor " + name + " (a " +
                architecture_name(c.architecture) + " SAE needs W_enc, W_dec, b_enc, b_dec" +
                (c.architecture == Architecture::JumpReLU ? " and threshold)." : ")."));
  }
  sae.W_enc = read_tensor(file, "W_enc", {c.d_in, c.d_sae}, c, cfg_path);
  sae.W_dec = read_tensor(file, "W_dec", {c.d_sae, c.d_in}, c, cfg_path);
  sae.b_enc = read_tensor(file, "b_enc", {c.d_sae}, c, cfg_path);
  sae.b_dec = read_tensor(file, "b_dec", {c.d_in}, c, cfg_path);
  if (c.architecture == Architecture::JumpReLU) {
    if (file.contains("threshold"))
      sae.threshold = read_tensor(file, "threshold", {c.d_sae}, c, cfg_path);
    else  // older training checkpoints store log(threshold)
      sae.threshold = at::exp(read_tensor(file, "log_threshold", {c.d_sae}, c, cfg_path));
  }
  if (file.contains("scaling_factor")) {
    // read_sae_components_from_disk: a scaling factor of ones is dropped; any other is a
    // fine-tuning scale SAELens 6 no longer applies (it refuses the file).
    const at::Tensor s = read_tensor(file, "scaling_factor", {c.d_sae}, c, cfg_path);
    if (!at::allclose(s, at::ones_like(s)))
      throw Error("The SAE weights " + where +
                  " hold a scaling_factor that is not all ones (a fine-tuning scale of SAELens < 6, "
                  "which SAELens 6 refuses).");
  }
  for (const at::Tensor* t : {&sae.W_enc, &sae.W_dec, &sae.b_enc, &sae.b_dec, &sae.threshold})
    if (t->defined() && !at::isfinite(*t).all().item<bool>())
      throw Error("The SAE weights " + where + " hold infinite or NaN values.");
  sae.check_shapes(where);
  return sae;
}

void save_sae(const Sae& sae, const fs::path& given, Layout layout) {
  const fs::path folder = given.has_filename() ? given : given.parent_path();  // "dir/" → "dir"
  const std::string target = given.string();
  sae.check_shapes("The SAE to be saved in " + target);
  std::error_code ec;
  if (fs::exists(folder, ec) && !fs::is_directory(folder, ec))
    throw Error("Cannot save the SAE in " + target + ": it is a file, not a folder.");
  const fs::path parent = folder.has_parent_path() ? folder.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec)
    throw Error("Cannot create the folder " + parent.string() + " for the SAE: " + ec.message() +
                ".");

  // Everything is written into a hidden sibling folder first, then moved into place by renames.
  static std::atomic<int> counter{0};
  const fs::path tmp = parent / ("." + folder.filename().string() + ".saving-" +
                                 std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec)
    throw Error("Cannot save the SAE in " + target + ": creating " + tmp.string() + " failed (" +
                ec.message() + ").");
  try {
    std::map<std::string, at::Tensor> tensors;
    auto f32 = [](const at::Tensor& t) { return t.detach().to(at::kCPU, at::kFloat).contiguous(); };
    tensors["W_enc"] = f32(sae.W_enc);
    tensors["W_dec"] = f32(sae.W_dec);
    tensors["b_enc"] = f32(sae.b_enc);
    tensors["b_dec"] = f32(sae.b_dec);
    if (sae.cfg.architecture == Architecture::JumpReLU) tensors["threshold"] = f32(sae.threshold);
    write_safetensors(tmp / kWeightsFile, tensors);
    write_text_file(tmp / kCfgFile, write_cfg(sae.cfg, layout).dump(2) + "\n");

    if (!fs::exists(folder, ec)) {
      fs::rename(tmp, folder);  // the whole folder appears at once
      return;
    }
    // An existing folder keeps its other files: the weights go in first, then cfg.json (which
    // readers open first), each by one rename.
    fs::rename(tmp / kWeightsFile, folder / kWeightsFile);
    fs::rename(tmp / kCfgFile, folder / kCfgFile);
    fs::remove_all(tmp, ec);
  } catch (const Error&) {
    fs::remove_all(tmp, ec);
    throw;
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    throw Error("Saving the SAE in " + target + " failed: " + e.what() + ".");
  }
}

}  // namespace mechscope::sae
