// Sparse autoencoders: SAELens folders (both cfg layouts), encode / decode against SAELens 6.54
// goldens (tests/reference/make_sae_goldens.py), saving, refusing bad files, check_fits, and
// splicing into the default text model.
#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/mapped_file.h"
#include "core/model/default_model.h"
#include "core/sae/sae_hooks.h"
#include "core/sae/sae_io.h"
#include "core/util/error.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;
using namespace mechscope::sae;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path golden_sae(const std::string& name) { return golden_dir() / "sae" / name; }

/// Every golden folder, with the architecture SAELens makes of it.
const std::vector<std::pair<std::string, Architecture>>& golden_saes() {
  static const std::vector<std::pair<std::string, Architecture>> all = {
      {"standard", Architecture::Standard},
      {"standard_no_bdec", Architecture::Standard},
      {"standard_cnr", Architecture::Standard},
      {"standard_layer_norm", Architecture::Standard},
      {"standard_expected_avg", Architecture::Standard},
      {"standard_whitening", Architecture::Standard},
      {"topk", Architecture::TopK},
      {"topk_no_bdec_layer_norm", Architecture::TopK},
      {"topk_rescale", Architecture::TopK},
      {"topk_rescale_cnr", Architecture::TopK},
      {"jumprelu", Architecture::JumpReLU},
      {"jumprelu_no_bdec_cnr", Architecture::JumpReLU},
      {"jumprelu_layer_norm", Architecture::JumpReLU},
      {"flat_relu", Architecture::Standard},
      {"flat_topk", Architecture::TopK},
      {"flat_jumprelu", Architecture::JumpReLU},
  };
  return all;
}

fs::path scratch(const std::string& name) {
  fs::path p = scratch_path("sae_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

json read_json(const fs::path& p) { return json::parse(read_text_file(p)); }
void write_json(const fs::path& p, const json& j) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << j.dump(2);
}

fs::path copy_golden(const std::string& name, const std::string& as) {
  const fs::path dir = scratch(as);
  for (const auto& e : fs::directory_iterator(golden_sae(name)))
    fs::copy_file(e.path(), dir / e.path().filename());
  return dir;
}

void same_config(const SaeConfig& a, const SaeConfig& b) {
  CHECK(a.architecture == b.architecture);
  CHECK(a.d_in == b.d_in);
  CHECK(a.d_sae == b.d_sae);
  CHECK(a.k == b.k);
  CHECK(a.rescale_acts_by_decoder_norm == b.rescale_acts_by_decoder_norm);
  CHECK(a.hook_name == b.hook_name);
  CHECK(a.model_name == b.model_name);
  CHECK(a.apply_b_dec_to_input == b.apply_b_dec_to_input);
  CHECK(a.normalize_activations == b.normalize_activations);
}

void same_tensors(const Sae& a, const Sae& b) {
  CHECK(at::equal(a.W_enc, b.W_enc));
  CHECK(at::equal(a.W_dec, b.W_dec));
  CHECK(at::equal(a.b_enc, b.b_enc));
  CHECK(at::equal(a.b_dec, b.b_dec));
  CHECK(a.threshold.defined() == b.threshold.defined());
  if (a.threshold.defined()) CHECK(at::equal(a.threshold, b.threshold));
}

/// Every field of `from` (versions aside) is in `to` with the same value.
void extra_kept(const json& from, const json& to) {
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (it.key() == "sae_lens_version" || it.key() == "sae_lens_training_version") continue;
    INFO("extra field " << it.key());
    REQUIRE(to.contains(it.key()));
    if (it.value().is_object())
      extra_kept(it.value(), to[it.key()]);
    else
      CHECK(to[it.key()] == it.value());
  }
}

/// A random SAE on `hook` of the default text model, with biases that make some latents fire.
std::shared_ptr<Sae> random_sae(Architecture arch, int64_t d_in, int64_t d_sae,
                                const std::string& hook, uint64_t seed) {
  at::manual_seed(seed);
  auto s = std::make_shared<Sae>();
  s->cfg.architecture = arch;
  s->cfg.d_in = d_in;
  s->cfg.d_sae = d_sae;
  s->cfg.k = arch == Architecture::TopK ? 12 : 0;
  s->cfg.hook_name = hook;
  s->cfg.apply_b_dec_to_input = true;
  s->W_enc = at::randn({d_in, d_sae}) * 0.2;
  s->W_dec = at::randn({d_sae, d_in}) * 0.2;
  s->b_enc = at::randn({d_sae}) * 0.5 - 0.2;
  s->b_dec = at::randn({d_in}) * 0.3;
  if (arch == Architecture::JumpReLU) s->threshold = at::rand({d_sae});
  s->check_shapes("the test SAE");
  return s;
}

std::unique_ptr<Model> text_model() { return load_model(default_model_path()); }

at::Tensor prompt_tokens() {
  return at::tensor(std::vector<int64_t>{1, 17, 250, 33, 412, 9, 77, 1001}, at::kLong).unsqueeze(0);
}

/// A hook that copies what it sees into `out`.
HookFn capture(at::Tensor& out) {
  return [&out](HookCall& c) { out = c.value.clone(); };
}

}  // namespace

TEST_CASE("SAE goldens: encode and decode equal SAELens 6.54 for every architecture", "[sae]") {
  c10::InferenceMode guard;
  const SafetensorsFile outputs(golden_sae("outputs.safetensors"));
  const at::Tensor x = outputs.tensor("x", at::kFloat);
  for (const auto& [name, arch] : golden_saes()) {
    INFO("SAE " << name);
    const Sae sae = load_sae(golden_sae(name));
    CHECK(sae.cfg.architecture == arch);
    CHECK(sae.cfg.d_in == 16);
    CHECK(sae.cfg.d_sae == 48);
    CHECK(sae.cfg.model_name == "mechscope-tiny-text");
    const at::Tensor acts = sae.encode(x);
    const at::Tensor want_acts = outputs.tensor(name + ".acts", at::kFloat);
    const at::Tensor want_recon = outputs.tensor(name + ".recon", at::kFloat);
    const double d_acts = max_abs_diff(acts, want_acts);
    const double d_recon = max_abs_diff(sae.decode(acts, x), want_recon);
    const double d_full = max_abs_diff(sae.reconstruct(x), want_recon);
    CHECK(d_acts <= 1e-5);
    CHECK(d_recon <= 1e-5);
    CHECK(d_full <= 1e-5);
    // The same latents are active (the goldens are neither all zero nor all active).
    CHECK(at::equal(acts != 0, want_acts != 0));
    const double active = (acts != 0).to(at::kFloat).mean().item<double>();
    CHECK(active > 0.0);
    CHECK(active < 0.8);
    if (arch == Architecture::TopK) {
      const at::Tensor n = (acts != 0).sum(-1);
      CHECK(n.max().item<int64_t>() == sae.cfg.k);
      CHECK(n.min().item<int64_t>() < sae.cfg.k);  // ReLU zeroes some of the k kept
    }
    WARN(name << ": max |Δacts| " << d_acts << ", max |Δrecon| " << d_recon);
  }
}

TEST_CASE("SAE configs: both cfg.json layouts read as SAELens reads them", "[sae]") {
  const Sae topk = load_sae(golden_sae("topk_rescale") / "cfg.json");  // a cfg.json path works too
  CHECK(topk.cfg.k == 7);
  CHECK(topk.cfg.rescale_acts_by_decoder_norm);
  CHECK(topk.cfg.hook_name == "blocks.1.hook_resid_pre");
  CHECK(topk.cfg.apply_b_dec_to_input);
  CHECK(topk.cfg.extra.at("metadata").at("context_size") == 128);
  CHECK(topk.cfg.extra.at("metadata").at("sae_lens_version") == "6.54.12");
  CHECK(topk.cfg.extra.at("dtype") == "float32");

  const Sae relu = load_sae(golden_sae("flat_relu"));
  CHECK(relu.cfg.normalize_activations == "none");  // false in the flat file
  CHECK(relu.cfg.hook_name == "blocks.1.hook_resid_pre");
  CHECK(relu.cfg.extra.at("hook_layer") == 1);
  CHECK(relu.cfg.extra.at("metadata").at("context_size") == 128);
  CHECK(relu.cfg.extra.at("metadata").at("dataset_path") == "mechscope/tasks");

  const Sae flat_topk = load_sae(golden_sae("flat_topk"));  // hook_point, activation_fn_str topk
  CHECK(flat_topk.cfg.architecture == Architecture::TopK);
  CHECK(flat_topk.cfg.k == 8);
  CHECK(flat_topk.cfg.hook_name == "blocks.3.hook_resid_pre");
  CHECK_FALSE(flat_topk.cfg.apply_b_dec_to_input);
  CHECK(flat_topk.cfg.extra.at("hook_point_layer") == 3);

  const Sae jump = load_sae(golden_sae("flat_jumprelu"));
  CHECK(jump.cfg.normalize_activations == "layer_norm");
  CHECK(jump.threshold.sizes() == at::IntArrayRef({48}));

  // A version at the top level decides the layout too (SAELens' handle_config_defaulting), and
  // the flat layout never carries a version of 6 or later.
  const fs::path dir = copy_golden("standard", "top_version");
  json cfg = read_json(dir / "cfg.json");
  cfg["metadata"].erase("sae_lens_version");
  cfg["sae_lens_version"] = "6.2.0";
  write_json(dir / "cfg.json", cfg);
  const Sae top = load_sae(dir);
  CHECK(top.cfg.hook_name == "blocks.1.hook_resid_pre");
  save_sae(top, dir, Layout::Flat);
  CHECK_FALSE(read_json(dir / "cfg.json").contains("sae_lens_version"));
  CHECK(load_sae(dir).cfg.hook_name == "blocks.1.hook_resid_pre");
  // SAELens 6 folders say how hook_z activations are reshaped.
  save_sae(*random_sae(Architecture::Standard, 16, 8, "blocks.0.attn.hook_z", 3), dir);
  CHECK(read_json(dir / "cfg.json").at("reshape_activations") == "hook_z");
  CHECK(read_json(dir / "cfg.json").at("metadata").at("sae_lens_version") == "6.54.12");
  fs::remove_all(dir);
}

TEST_CASE("SAE save-then-load round trips are bit-exact in both layouts and keep every field",
          "[sae]") {
  c10::InferenceMode guard;
  const fs::path root = scratch("roundtrip");
  const char* keep = std::getenv("MECHSCOPE_KEEP_SAE_SAVES");  // for checking with SAELens by hand
  for (const auto& [name, arch] : golden_saes()) {
    INFO("SAE " << name);
    const Sae original = load_sae(golden_sae(name));
    const bool flat_file = name.rfind("flat_", 0) == 0;
    for (Layout layout : {Layout::SaeLens6, Layout::Flat}) {
      const bool flat = layout == Layout::Flat;
      const fs::path dir = root / (std::string(flat ? "flat" : "v6")) / name;
      save_sae(original, dir, layout);
      if (keep != nullptr) save_sae(original, fs::path(keep) / (flat ? "flat" : "v6") / name, layout);
      const json cfg = read_json(dir / "cfg.json");
      if (flat) {
        CHECK_FALSE(cfg.contains("metadata"));
        CHECK(cfg.at("hook_name") == original.cfg.hook_name);
        CHECK(cfg.at("activation_fn_str") == (arch == Architecture::TopK ? "topk" : "relu"));
      } else {
        CHECK(cfg.at("metadata").at("hook_name") == original.cfg.hook_name);
        CHECK(cfg.at("architecture") == architecture_name(arch));
      }
      const Sae back = load_sae(dir);
      same_config(back.cfg, original.cfg);
      same_tensors(back, original);
      if (flat == flat_file)
        CHECK(back.cfg.extra == original.cfg.extra);  // the same layout: every field as it was
      else
        extra_kept(original.cfg.extra, back.cfg.extra);
      // And once more through the other layout.
      save_sae(back, dir, flat ? Layout::SaeLens6 : Layout::Flat);
      const Sae again = load_sae(dir);
      same_config(again.cfg, original.cfg);
      same_tensors(again, original);
      extra_kept(original.cfg.extra, again.cfg.extra);
    }
  }
  // Nothing but the saved folders was left behind (no temporary siblings).
  for (const auto& e : fs::directory_iterator(root / "v6"))
    CHECK(e.path().filename().string().front() != '.');
  fs::remove_all(root);
}

TEST_CASE("SAE saving is atomic and keeps an existing folder's other files", "[sae]") {
  const fs::path dir = copy_golden("jumprelu", "atomic");
  std::ofstream(dir / "sparsity.safetensors") << "not touched";
  Sae sae = load_sae(golden_sae("topk"));
  save_sae(sae, dir);
  CHECK(read_text_file(dir / "sparsity.safetensors") == "not touched");
  const Sae back = load_sae(dir);
  CHECK(back.cfg.architecture == Architecture::TopK);
  same_tensors(back, sae);

  // A failed save changes nothing: an incomplete SAE is refused before anything is written …
  const fs::path fresh = dir.parent_path() / (dir.filename().string() + "_fresh");
  fs::remove_all(fresh);
  Sae broken = sae;
  broken.b_dec = at::Tensor();
  CHECK_THAT(error_of([&] { save_sae(broken, fresh); }), Catch::Contains("b_dec"));
  CHECK_FALSE(fs::exists(fresh));
  // … and when moving the weights into place fails, cfg.json stays as it was and no temporary
  // folder is left.
  const std::string cfg_before = read_text_file(dir / "cfg.json");
  fs::remove(dir / "sae_weights.safetensors");
  fs::create_directories(dir / "sae_weights.safetensors" / "blocker");
  CHECK_THAT(error_of([&] { save_sae(load_sae(golden_sae("standard")), dir); }),
             Catch::Contains(dir.string()));
  CHECK(read_text_file(dir / "cfg.json") == cfg_before);
  for (const auto& e : fs::directory_iterator(dir.parent_path()))
    CHECK(e.path().filename().string().rfind("." + dir.filename().string() + ".saving-", 0) ==
          std::string::npos);
  // Saving to a file's path is refused.
  CHECK_THAT(error_of([&] { save_sae(sae, dir / "cfg.json"); }), Catch::Contains("not a folder"));
  fs::remove_all(dir);
  fs::remove_all(fresh);
}

TEST_CASE("SAE folders: every bad input is refused with the file named", "[sae]") {
  c10::InferenceMode guard;
  const std::string cfg_name = "cfg.json";
  // Breaks a copy of a golden folder's cfg.json and returns the error.
  auto with_cfg = [&](const std::string& golden, const std::function<void(json&)>& edit) {
    const fs::path dir = copy_golden(golden, "bad_cfg");
    json cfg = read_json(dir / cfg_name);
    edit(cfg);
    write_json(dir / cfg_name, cfg);
    const std::string msg = error_of([&] { load_sae(dir); });
    CHECK_THAT(msg, Catch::Contains((dir / cfg_name).string()));
    return msg;
  };
  // Replaces the weights of a copy of a golden folder and returns the error.
  auto with_weights = [&](const std::string& golden,
                          const std::function<void(std::map<std::string, at::Tensor>&)>& edit) {
    const fs::path dir = copy_golden(golden, "bad_weights");
    const SafetensorsFile file(golden_sae(golden) / "sae_weights.safetensors");
    std::map<std::string, at::Tensor> t;
    for (const auto& n : file.names()) t[n] = file.tensor(n).clone();
    edit(t);
    write_safetensors(dir / "sae_weights.safetensors", t);
    const std::string msg = error_of([&] { load_sae(dir); });
    CHECK_THAT(msg, Catch::Contains((dir / "sae_weights.safetensors").string()));
    return msg;
  };

  // Missing files.
  {
    const fs::path dir = copy_golden("standard", "missing");
    fs::remove(dir / "cfg.json");
    CHECK_THAT(error_of([&] { load_sae(dir); }),
               Catch::Contains(dir.string()) && Catch::Contains("no cfg.json"));
    const fs::path dir2 = copy_golden("standard", "missing_weights");
    fs::remove(dir2 / "sae_weights.safetensors");
    CHECK_THAT(error_of([&] { load_sae(dir2); }),
               Catch::Contains(dir2.string()) && Catch::Contains("sae_weights.safetensors"));
    CHECK_THAT(error_of([&] { load_sae(dir2 / "nowhere"); }), Catch::Contains("does not exist"));
  }
  // Bad JSON, or not an object.
  {
    const fs::path dir = copy_golden("standard", "bad_json");
    std::ofstream(dir / "cfg.json", std::ios::trunc) << "{\"d_in\": 16, \"d_sae\": ";
    CHECK_THAT(error_of([&] { load_sae(dir); }),
               Catch::Contains((dir / "cfg.json").string()) && Catch::Contains("not valid JSON"));
    std::ofstream(dir / "cfg.json", std::ios::trunc) << "[1, 2]";
    CHECK_THAT(error_of([&] { load_sae(dir); }), Catch::Contains("not a JSON object"));
  }
  // Unknown architecture, activation or normalisation.
  CHECK_THAT(with_cfg("standard", [](json& c) { c["architecture"] = "gated"; }),
             Catch::Contains("'gated'"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c.erase("architecture"); }),
             Catch::Contains("no architecture"));
  CHECK_THAT(with_cfg("flat_relu", [](json& c) { c["activation_fn_str"] = "tanh-relu"; }),
             Catch::Contains("'tanh-relu'"));
  CHECK_THAT(with_cfg("flat_topk", [](json& c) { c["activation_fn_kwargs"] = json::object(); }),
             Catch::Contains("activation_fn_kwargs.k"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c["normalize_activations"] = "whiten"; }),
             Catch::Contains("'whiten'"));
  // Non-positive, absurd or non-integer sizes.
  CHECK_THAT(with_cfg("standard", [](json& c) { c["d_in"] = 0; }), Catch::Contains("d_in"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c["d_sae"] = -48; }), Catch::Contains("d_sae"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c["d_sae"] = (int64_t(1) << 24) + 1; }),
             Catch::Contains("2^24"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c["d_in"] = uint64_t(1) << 62; }),
             Catch::Contains("2^24"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c["d_in"] = "16"; }),
             Catch::Contains("not a whole number"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c.erase("d_sae"); }), Catch::Contains("no d_sae"));
  CHECK_THAT(with_cfg("standard", [](json& c) { c["apply_b_dec_to_input"] = "yes"; }),
             Catch::Contains("apply_b_dec_to_input"));
  // k outside 1…d_sae.
  CHECK_THAT(with_cfg("topk", [](json& c) { c["k"] = 0; }), Catch::Contains("k = 0"));
  CHECK_THAT(with_cfg("topk", [](json& c) { c["k"] = 49; }), Catch::Contains("k = 49"));
  CHECK_THAT(with_cfg("topk", [](json& c) { c.erase("k"); }),  // SAELens' default k is 100
             Catch::Contains("k = 100"));
  CHECK_THAT(with_cfg("flat_topk", [](json& c) { c["activation_fn_kwargs"]["k"] = -3; }),
             Catch::Contains("k = -3"));
  // Sizes that do not match the tensors (both shapes named).
  CHECK_THAT(with_cfg("standard", [](json& c) { c["d_sae"] = 64; }),
             Catch::Contains("sae_weights.safetensors") && Catch::Contains("[16, 48]") &&
                 Catch::Contains("[16, 64]"));

  // Missing, misshapen, non-float, non-finite or unexpected tensors.
  CHECK_THAT(with_weights("standard", [](auto& t) { t.erase("b_dec"); }),
             Catch::Contains("no tensor b_dec"));
  CHECK_THAT(with_weights("jumprelu", [](auto& t) { t.erase("threshold"); }),
             Catch::Contains("threshold"));
  CHECK_THAT(with_weights("standard", [](auto& t) { t["W_enc"] = t["W_enc"].t().contiguous(); }),
             Catch::Contains("W_enc has shape [48, 16], expected [16, 48]"));
  CHECK_THAT(with_weights("standard", [](auto& t) { t["b_enc"] = t["b_enc"].to(at::kInt); }),
             Catch::Contains("b_enc as I32"));
  CHECK_THAT(with_weights("standard", [](auto& t) { t["W_dec"][3][2] = NAN; }),
             Catch::Contains("NaN"));
  CHECK_THAT(with_weights("standard", [](auto& t) { t["threshold"] = at::zeros({48}); }),
             Catch::Contains("'threshold'"));
  CHECK_THAT(with_weights("standard", [](auto& t) { t["scaling_factor"] = at::full({48}, 2.0); }),
             Catch::Contains("scaling_factor"));
  // Tensors that claim more data than the file holds.
  {
    const fs::path dir = copy_golden("standard", "truncated");
    const std::string header =
        R"({"W_enc":{"dtype":"F32","shape":[16,4000000],"data_offsets":[0,256000000]}})";
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = char((header.size() >> (8 * i)) & 0xff);
    std::ofstream(dir / "sae_weights.safetensors", std::ios::binary | std::ios::trunc)
        << bytes << header << std::string(64, '\0');
    CHECK_THAT(error_of([&] { load_sae(dir); }),
               Catch::Contains((dir / "sae_weights.safetensors").string()));
  }

  // Accepted variants: F16 / BF16 tensors (loaded as f32), a scaling_factor of ones (dropped, as
  // SAELens does) and log_threshold (older jumprelu checkpoints).
  {
    const fs::path dir = copy_golden("jumprelu", "variants");
    const Sae ref = load_sae(golden_sae("jumprelu"));
    std::map<std::string, at::Tensor> t = {
        {"W_enc", ref.W_enc.to(at::kHalf)},   {"W_dec", ref.W_dec.to(at::kBFloat16)},
        {"b_enc", ref.b_enc},                 {"b_dec", ref.b_dec},
        {"log_threshold", at::log(ref.threshold)}, {"scaling_factor", at::ones({48})}};
    write_safetensors(dir / "sae_weights.safetensors", t);
    const Sae s = load_sae(dir);
    CHECK(s.W_enc.scalar_type() == at::kFloat);
    CHECK(at::equal(s.W_enc, ref.W_enc.to(at::kHalf).to(at::kFloat)));
    CHECK(at::equal(s.W_dec, ref.W_dec.to(at::kBFloat16).to(at::kFloat)));
    CHECK(max_abs_diff(s.threshold, ref.threshold) < 1e-6);
  }
  for (const char* name : {"bad_cfg", "bad_weights", "missing", "missing_weights", "bad_json",
                           "truncated", "variants"})
    fs::remove_all(scratch_path(std::string("sae_") + name));
}

TEST_CASE("check_fits names the SAE's hook and d_in and the model's", "[sae]") {
  auto model = text_model();
  const int64_t d = model->config().d_model;
  CHECK_NOTHROW(check_fits(*random_sae(Architecture::Standard, d, 32, "blocks.1.hook_resid_pre", 1),
                           *model));
  const int64_t z = model->config().n_heads * model->config().d_head;
  CHECK_NOTHROW(
      check_fits(*random_sae(Architecture::Standard, z, 32, "blocks.2.attn.hook_z", 1), *model));
  CHECK_THAT(error_of([&] {
               check_fits(*random_sae(Architecture::Standard, 16, 32, "blocks.1.hook_resid_pre", 1),
                          *model);
             }),
             Catch::Contains("blocks.1.hook_resid_pre") && Catch::Contains("d_in 16") &&
                 Catch::Contains(std::to_string(d) + " values"));
  CHECK_THAT(
      error_of([&] {
        check_fits(*random_sae(Architecture::Standard, d, 32, "blocks.9.hook_resid_pre", 1), *model);
      }),
      Catch::Contains("'blocks.9.hook_resid_pre'") && Catch::Contains("d_in " + std::to_string(d)) &&
          Catch::Contains(std::to_string(model->config().n_layers) + " layers"));
  CHECK_THAT(error_of([&] {
               check_fits(*random_sae(Architecture::Standard, 64, 32, "blocks.0.attn.hook_pattern", 1),
                          *model);
             }),
             Catch::Contains("blocks.0.attn.hook_pattern") && Catch::Contains("d_in 64"));
}

TEST_CASE("splicing an SAE: replace, error term, steering, standing hooks, hook_z", "[sae]") {
  c10::InferenceMode guard;
  auto model = text_model();
  const int64_t d = model->config().d_model;
  const std::string hook = "blocks.1.hook_resid_pre";
  const at::Tensor tokens = prompt_tokens();
  const at::Tensor clean_logits = model->run(tokens).logits;

  auto sae = random_sae(Architecture::Standard, d, 256, hook, 7);
  // Runs with the splice between two captures of the hook point.
  auto spliced = [&](const SpliceOptions& o, at::Tensor& before, at::Tensor& after,
                     FeatureEdit edit = {}) {
    HookSet hooks;
    hooks.add(hook, capture(before));
    add_splice(hooks, sae, o, std::move(edit));
    hooks.add(hook, capture(after));
    return model->run(tokens, {}, &hooks).logits;
  };

  // (a) replace: the activation becomes the reconstruction.
  at::Tensor before, after;
  const at::Tensor replaced_logits = spliced({}, before, after);
  CHECK(max_abs_diff(after, sae->reconstruct(before)) <= 1e-6);
  const double active = (sae->encode(before) != 0).to(at::kFloat).mean().item<double>();
  CHECK(active > 0.02);
  CHECK(active < 0.9);
  CHECK(max_abs_diff(replaced_logits, clean_logits) > 1e-2);  // the SAE is not the identity

  // (b) the error term restores the model: logits equal the unspliced ones.
  SpliceOptions with_error;
  with_error.error_term = true;
  at::Tensor b2, a2;
  const double d_error = max_abs_diff(spliced(with_error, b2, a2), clean_logits);
  CHECK(d_error <= 1e-5);
  // … and with a feature edit only the edit's effect remains.
  const int64_t top = sae->encode(b2)[0][3].argmax().item<int64_t>();
  at::Tensor b3, a3;
  const at::Tensor edited_logits = spliced(with_error, b3, a3, [top](at::Tensor& acts) {
    acts.select(-1, top).zero_();
  });
  at::Tensor f = sae->encode(b3), f_edit = f.clone();
  f_edit.select(-1, top).zero_();
  CHECK(max_abs_diff(a3 - b3, sae->decode(f_edit, b3) - sae->decode(f, b3)) <= 1e-5);
  CHECK(max_abs_diff(edited_logits, clean_logits) > 1e-4);
  const at::Tensor noop_logits = spliced(with_error, b3, a3, [](at::Tensor&) {});
  CHECK(max_abs_diff(noop_logits, clean_logits) <= 1e-5);

  // (c) steering without replacing: the activation moves by exactly scale · W_dec[i].
  SpliceOptions steer;
  steer.replace = false;
  steer.steer = {{5, 3.5}, {17, -2.0}};
  at::Tensor b4, a4;
  spliced(steer, b4, a4);
  const at::Tensor want = sae->W_dec[5] * 3.5 + sae->W_dec[17] * -2.0;
  CHECK(max_abs_diff(a4 - b4, want.expand_as(b4)) <= 1e-5);
  CHECK(max_abs_diff(b4, before) == 0.0);  // upstream untouched

  // (d) the same through Model::set_standing_hooks (splice_into): every run carries the splice.
  splice_into(*model, sae, {}, "random-sae");
  REQUIRE(model->standing_hooks() != nullptr);
  CHECK(json::parse(model->standing_description()).at("hook") == hook);
  at::Tensor seen;
  HookSet observe;
  observe.add(hook, capture(seen));  // the caller's hooks run after the standing ones
  const at::Tensor standing_logits = model->run(tokens, {}, &observe).logits;
  CHECK(max_abs_diff(seen, sae->reconstruct(before)) <= 1e-6);
  CHECK(max_abs_diff(standing_logits, replaced_logits) == 0.0);
  CHECK(max_abs_diff(model->run(tokens).logits, replaced_logits) == 0.0);
  SpliceOptions standing_steer = steer;
  splice_into(*model, sae, standing_steer, "random-sae");
  model->run(tokens, {}, &observe);
  CHECK(max_abs_diff(seen - before, want.expand_as(before)) <= 1e-5);
  CHECK_THAT(error_of([&] {
               SpliceOptions bad;
               bad.steer = {{256, 1.0}};
               splice_into(*model, sae, bad, "random-sae");
             }),
             Catch::Contains("256"));
  splice_into(*model, nullptr, {}, "");
  CHECK(model->standing_hooks() == nullptr);
  CHECK(max_abs_diff(model->run(tokens).logits, clean_logits) == 0.0);

  // (e) an SAE on hook_z reads the heads flattened ([…, n_heads · d_head]) and writes them back.
  const auto& c = model->config();
  const std::string z_hook = "blocks.2.attn.hook_z";
  auto z_sae = random_sae(Architecture::TopK, c.n_heads * c.d_head, 96, z_hook, 11);
  check_fits(*z_sae, *model);
  HookSet zh;
  at::Tensor zb, za;
  zh.add(z_hook, capture(zb));
  add_splice(zh, z_sae, {});
  zh.add(z_hook, capture(za));
  const at::Tensor z_logits = model->run(tokens, {}, &zh).logits;
  REQUIRE(za.dim() == 4);
  CHECK(za.sizes() == zb.sizes());
  const at::Tensor flat = zb.reshape({zb.size(0), zb.size(1), c.n_heads * c.d_head});
  CHECK(max_abs_diff(za.reshape(flat.sizes()), z_sae->reconstruct(flat)) <= 1e-6);
  CHECK(max_abs_diff(z_logits, clean_logits) > 1e-3);
  HookSet ze;
  SpliceOptions z_error;
  z_error.error_term = true;
  add_splice(ze, z_sae, z_error);
  CHECK(max_abs_diff(model->run(tokens, {}, &ze).logits, clean_logits) <= 1e-5);
  WARN("splice: error-term logits max |Δ| " << d_error << "; active latents " << active);
}
