// sae_features: a sparse autoencoder's latents on every position of the prompt (read at the SAE's
// hook, the forward pass stopped there), each position's relative reconstruction error and
// strongest latents; for the latents that lead any position (at most detail_features of them),
// the tokens their decoder direction promotes through the final norm's gain and the unembedding,
// and optionally their top-activating examples over a task's samples or a file of prompts
// (batched, padded forward passes, also stopped at the hook).
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "core/model/model.h"
#include "core/sae/sae.h"
#include "core/sae/sae_io.h"
#include "core/util/error.h"
#include "core/util/gemm.h"
#include "probes/builtin.h"
#include "probes/position_roles.h"
#include "probes/result_meta.h"
#include "probes/sae_extract.h"
#include "probes/tensors.h"
#include "probes/weight_space.h"

namespace mechscope::probes {

namespace {

struct HookSite {
  HookKind kind = HookKind::Count;
  int layer = -1;
};

HookSite locate(const Model& model, const std::string& name) {
  const HookPoints& points = model.hook_points();
  for (int i = 0; i < points.table_size(); ++i)
    if (points.name(i) == name) {
      const auto [kind, layer] = HookPoints::locate(i);
      return {kind, layer};
    }
  throw Error("The model has no hook point '" + name + "' (the SAE's hook).");
}

/// The SAE's input [batch, pos, d_in] at its hook for `tokens` [batch, pos] (right padding
/// masked by `mask` when defined); the forward pass stops at the hook.
at::Tensor hook_input(const Model& model, const sae::Sae& sae, const at::Tensor& tokens,
                      const at::Tensor& mask, const at::Tensor& pixels) {
  at::Tensor captured;
  HookSet hooks;
  hooks.add(sae.cfg.hook_name, [&captured](HookCall& call) {
    captured = call.value;
    call.stop = true;
  });
  if (pixels.defined())
    model.run_multimodal(tokens, pixels, mask, &hooks);
  else
    model.run(tokens, mask, &hooks);
  if (!captured.defined())
    throw Error("The forward pass never reached the SAE's hook point " + sae.cfg.hook_name + ".");
  return sae::sae_input(sae, captured);
}

/// Decoder rows [n, d_in] as the residual-stream vectors they add ([n, d_model], float), or an
/// undefined tensor when the hook point has no linear path into the residual stream (queries,
/// keys, pre-activations, norm scales).
at::Tensor residual_directions(const Model& model, HookSite site, const at::Tensor& rows) {
  const auto layer = [&]() -> const LayerWeights& { return model.weights().layers.at(site.layer); };
  auto through = [&](const at::Tensor& w) {  // w [d_model, d_in] in compute layout
    return mechscope::mm(rows.to(w.device(), w.scalar_type()), w.t()).to(at::kFloat);
  };
  switch (site.kind) {
    case HookKind::Embed:
    case HookKind::PosEmbed:
    case HookKind::ImageFeatures:
    case HookKind::ResidPre:
    case HookKind::Ln1Normalized:
    case HookKind::AttnOut:
    case HookKind::ResidMid:
    case HookKind::Ln2Normalized:
    case HookKind::MlpOut:
    case HookKind::ResidPost:
    case HookKind::LnFinalNormalized: return rows.to(at::kFloat);
    case HookKind::Ln1PostNormalized: return rows.to(at::kFloat) * layer().ln1_post_w.to(at::kFloat);
    case HookKind::Ln2PostNormalized: return rows.to(at::kFloat) * layer().ln2_post_w.to(at::kFloat);
    case HookKind::Z: return through(layer().o_w);
    case HookKind::MlpPost: return through(layer().out_w);
    case HookKind::Result:
      return rows.to(at::kFloat).view({rows.size(0), model.config().n_heads, -1}).sum(1);
    default: return {};
  }
}

/// One example of the examples set: tokens, the text shown for it, its image (tasks with images).
struct Example {
  std::vector<int64_t> tokens;
  std::string text;
  RgbImage image;
};

std::vector<Example> read_examples(const Model& model, const Options& options) {
  const std::string task = options.string("examples_task");
  const std::string file = options.string("examples_prompts");
  const int64_t n = options.integer("examples");
  if (!task.empty() && !file.empty())
    throw Error("Give examples_task or examples_prompts, not both (examples_task=" + task +
                ", examples_prompts=" + file + ").");
  std::vector<Example> out;
  const Tokenizer* tok = model.tokenizer();
  if (!task.empty()) {
    for (auto& tp : task_prompts(model, task, n, uint64_t(options.integer("seed")))) {
      Example e;
      e.text = tok ? tok->decode(tp.tokens, true) : std::string();
      e.tokens = std::move(tp.tokens);
      e.image = std::move(tp.image);
      out.push_back(std::move(e));
    }
    return out;
  }
  if (file.empty()) return out;
  if (tok == nullptr)
    throw Error("examples_prompts needs a model with a tokenizer to read " + file + ".");
  std::ifstream in(file);
  if (!in) throw Error("Cannot read the examples file " + file + " (examples_prompts).");
  std::string line;
  int64_t line_no = 0;
  const int64_t n_ctx = model.config().n_ctx;
  while (int64_t(out.size()) < n && std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Example e;
    e.tokens = tok->encode(line, true).ids;
    if (int64_t(e.tokens.size()) > n_ctx)
      throw Error("Line " + std::to_string(line_no) + " of the examples file " + file + " has " +
                  std::to_string(e.tokens.size()) + " tokens; the model reads at most " +
                  std::to_string(n_ctx) + ".");
    if (e.tokens.empty()) continue;
    e.text = line;
    out.push_back(std::move(e));
  }
  if (out.empty()) throw Error("The examples file " + file + " holds no prompt (one per line).");
  return out;
}

/// Each example's largest activation [examples, F] of the latents `ids` and where it is
/// (the token index) — batched forward passes, right-padded, stopped at the SAE's hook.
std::pair<at::Tensor, at::Tensor> example_maxima(const Model& model, const sae::Sae& sae,
                                                 const std::vector<Example>& examples,
                                                 const at::Tensor& ids, const Progress& progress,
                                                 double p0, double p1) {
  const int64_t N = int64_t(examples.size()), F = ids.numel();
  int64_t longest = 1;
  for (const auto& e : examples) longest = std::max<int64_t>(longest, int64_t(e.tokens.size()));
  const int64_t batch = sweep_batch_size(model, longest, 32);
  at::Tensor max_act = at::empty({N, F}, at::kFloat), max_pos = at::empty({N, F}, at::kFloat);
  for (int64_t b0 = 0; b0 < N; b0 += batch) {
    const int64_t b1 = std::min(N, b0 + batch), B = b1 - b0;
    int64_t T = 1;
    for (int64_t i = b0; i < b1; ++i) T = std::max<int64_t>(T, int64_t(examples[i].tokens.size()));
    at::Tensor tokens = at::zeros({B, T}, at::kLong), mask = at::zeros({B, T}, at::kLong);
    std::vector<at::Tensor> pixels;
    for (int64_t i = b0; i < b1; ++i) {
      const auto& t = examples[i].tokens;
      const int64_t len = int64_t(t.size());
      tokens[i - b0].slice(0, 0, len).copy_(at::tensor(t, at::kLong));
      mask[i - b0].slice(0, 0, len).fill_(1);
      if (!examples[i].image.empty()) {
        ProbeInputs with_image;
        with_image.image_rgb = examples[i].image;
        pixels.push_back(prompt_pixels(model, with_image));
      }
    }
    if (!pixels.empty() && int64_t(pixels.size()) != B)
      throw Error("Some examples have an image and some do not; run them as separate sets.");
    const at::Tensor dev_mask = mask.to(model.device());
    const at::Tensor x = hook_input(model, sae, tokens.to(model.device()), dev_mask,
                                    pixels.empty() ? at::Tensor() : at::cat(pixels));
    at::Tensor acts = encode_latents(sae, x.reshape({B * T, sae.cfg.d_in}), ids)
                          .to(at::kFloat)
                          .view({B, T, F});
    // Padding never wins: its positions read −inf.
    acts.masked_fill_(dev_mask.eq(0).unsqueeze(-1), -std::numeric_limits<float>::infinity());
    auto [values, where] = acts.max(1);  // [B, F]
    max_act.slice(0, b0, b1).copy_(values);
    max_pos.slice(0, b0, b1).copy_(where.to(at::kFloat));
    report(progress, p0 + (p1 - p0) * double(b1) / double(N));
  }
  return {max_act, max_pos};
}

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const std::string path = options.string("sae");
  if (path.empty())
    throw Error("sae_features needs an SAE: give its SAELens folder with --option sae=DIR.");
  sae::Sae sae = sae::load_sae(path);
  if (sae.cfg.hook_name.empty())
    throw Error("The SAE in " + path + " names no hook point (hook_name in its cfg.json): "
                "sae_features cannot tell where to read it.");
  sae::check_fits(sae, model);
  const HookSite site = locate(model, sae.cfg.hook_name);
  if (site.kind == HookKind::Pattern || site.kind == HookKind::AttnScores)
    throw Error("The SAE in " + path + " reads " + sae.cfg.hook_name +
                ", whose values are per query and key, not per position; sae_features reads "
                "SAEs on per-position hook points.");
  sae.to(model.device(), at::kFloat);
  const int64_t d_sae = sae.cfg.d_sae;
  const int64_t k = std::min<int64_t>(options.integer("top_k"), d_sae);

  // The prompt, stopped at the hook.
  const at::Tensor x =
      hook_input(model, sae, prompt_tensor(model, in.tokens), {}, prompt_pixels(model, in))[0];
  report(progress, 0.1);
  const FeatureExtraction fx = extract_features(sae, x, k);
  const at::Tensor acts = fx.acts.to(at::kCPU).to(at::kFloat);  // [pos, d_sae]
  report(progress, 0.2);

  const Axis position{"position", token_labels(model, in.tokens)};
  Result r;
  r.title = result_title("SAE features", in.prompt);
  r.arrays["feature_acts"] = to_array(acts, {position, {"latent", {}}});
  r.arrays["reconstruction_error"] = to_array(fx.error, {position});
  r.arrays["top_features"] = to_array(fx.top_ids.to(at::kFloat), {position, {"rank", rank_labels(k)}});
  r.arrays["top_values"] = to_array(fx.top_values, {position, {"rank", rank_labels(k)}});

  // The detail features: every latent in some position's top list with a positive value, the
  // strongest (largest activation over the prompt) first, at most detail_features of them.
  const at::Tensor peak = std::get<0>(acts.max(0));  // [d_sae]
  std::set<int64_t> listed;
  const at::Tensor tv = fx.top_values.contiguous(), ti = fx.top_ids.contiguous();
  for (int64_t i = 0; i < tv.numel(); ++i)
    if (tv.data_ptr<float>()[i] > 0) listed.insert(ti.data_ptr<int64_t>()[i]);
  std::vector<int64_t> detail(listed.begin(), listed.end());
  const float* pk = peak.data_ptr<float>();
  std::stable_sort(detail.begin(), detail.end(), [&](int64_t a, int64_t b) { return pk[a] > pk[b]; });
  detail.resize(std::min<size_t>(detail.size(), size_t(options.integer("detail_features"))));
  const int64_t F = int64_t(detail.size());

  r.meta = {{"sae", std::filesystem::absolute(path).string()},
            {"hook", sae.cfg.hook_name},
            {"architecture", sae::architecture_name(sae.cfg.architecture)},
            {"d_in", sae.cfg.d_in},
            {"d_sae", d_sae},
            {"detail_features", F}};
  if (sae.cfg.architecture == sae::Architecture::TopK) r.meta["k"] = sae.cfg.k;
  nlohmann::json strings = nlohmann::json::object();
  if (F > 0) {
    const at::Tensor ids = at::tensor(detail, at::kLong);
    std::vector<std::string> id_labels;
    for (int64_t f : detail) id_labels.push_back(std::to_string(f));
    const Axis feature{"feature", id_labels};
    r.arrays["feature_ids"] = to_array(ids.to(at::kFloat), {feature});

    const at::Tensor resid =
        residual_directions(model, site, sae.W_dec.index_select(0, ids.to(sae.W_dec.device())));
    if (resid.defined()) {
      const bool through_norm = options.boolean("through_norm");
      const int64_t lk = std::min<int64_t>(options.integer("logit_k"), model.config().d_vocab);
      const VocabTopK vt = vocab_top_k(
          model, through_norm ? through_final_norm(model, resid) : resid, lk, false);
      const Axis rank{"rank", rank_labels(lk)};
      r.arrays["feature_logit_tokens"] = to_array(vt.top_token, {feature, rank});
      r.arrays["feature_logit_values"] = to_array(vt.top_logit, {feature, rank});
      strings = token_strings(model, vt.top_token);
      r.meta["feature_logits"] = through_norm
                                     ? "W_U · (final norm gain ⊙ W_dec[f]), hook space mapped "
                                       "into the residual stream"
                                     : "W_U · W_dec[f], hook space mapped into the residual stream";
      r.meta["through_norm"] = through_norm;
    } else {
      r.meta["feature_logits"] = "none: " + sae.cfg.hook_name +
                                 " has no linear path into the residual stream";
    }
    report(progress, 0.3);

    const std::vector<Example> examples = read_examples(model, options);
    if (!examples.empty()) {
      const auto [max_act, max_pos] = example_maxima(model, sae, examples, ids, progress, 0.3, 1.0);
      const int64_t m = std::min<int64_t>(options.integer("top_examples"), int64_t(examples.size()));
      auto [best, order] = max_act.t().topk(m, 1);  // [F, m] by activation, best first
      const Axis rank{"example_rank", rank_labels(m)};
      r.arrays["example_acts"] = to_array(best, {feature, rank});
      r.arrays["example_index"] = to_array(order.to(at::kFloat), {feature, rank});
      r.arrays["example_position"] = to_array(max_pos.t().gather(1, order), {feature, rank});
      nlohmann::json texts = nlohmann::json::array(), tokens = nlohmann::json::array();
      for (const auto& e : examples) {
        texts.push_back(e.text);
        tokens.push_back(token_labels(model, e.tokens));
      }
      r.meta["examples"] = texts;
      r.meta["example_tokens"] = tokens;
      const std::string task = options.string("examples_task");
      r.meta["examples_source"] =
          task.empty() ? "prompts: " + options.string("examples_prompts") : "task: " + task;
    }
  }
  r.meta["token_strings"] = strings;
  report(progress, 1.0);
  return r;
}

}  // namespace

std::shared_ptr<const Probe> sae_features_probe() {
  using T = OptionSpec::Type;
  ProbeInfo info;
  info.name = "sae_features";
  info.title = "SAE features";
  info.description =
      "A sparse autoencoder's latents at its hook point on every position of the prompt, the "
      "reconstruction error and each position's strongest features; for the leading features, "
      "the tokens their decoder direction promotes and their top-activating examples.";
  info.inputs = {{Input::Prompt, true, "the prompt"},
                 {Input::Image, false, "the image (vision-language models)"}};
  info.options = {
      {"sae", T::String, "", {}, {}, {}, "the SAE: an SAELens folder (cfg.json + sae_weights.safetensors)",
       "folder"},
      {"top_k", T::Integer, 10, {}, 1.0, 1000.0, "features listed per position"},
      {"detail_features", T::Integer, 64, {}, 0.0, 4096.0,
       "features given decoder tokens and examples: those in some position's top list, the "
       "strongest first, at most this many"},
      {"logit_k", T::Integer, 10, {}, 1.0, 1000.0, "tokens kept per feature's decoder direction"},
      {"through_norm", T::Boolean, true, {}, {}, {},
       "pass each decoder direction through the final norm's gain (LayerNorm: centred, then × γ) "
       "before the unembedding, as neuron_decoding does"},
      {"examples_task", T::String, "", task_choices(), {}, {},
       "top-activating examples from this task's samples"},
      {"examples_prompts", T::String, "", {}, {}, {},
       "top-activating examples from this file (one prompt per line)", "file"},
      {"examples", T::Integer, 64, {}, 1.0, 100000.0, "examples drawn (task) or read (file)"},
      {"top_examples", T::Integer, 10, {}, 1.0, 1000.0, "examples kept per feature"},
      {"seed", T::Integer, 0, {}, 0.0, 2147483647.0, "with examples_task: seed of the samples"}};
  info.arrays = {
      {"feature_acts", {"position", "latent"}, "every latent's activation at every position"},
      {"reconstruction_error", {"position"}, "‖x − x̂‖ / ‖x‖ of the SAE's reconstruction"},
      {"top_features", {"position", "rank"}, "the strongest latents per position (ids)"},
      {"top_values", {"position", "rank"}, "their activations"},
      {"feature_ids", {"feature"}, "the detail features (latent ids), strongest first"},
      {"feature_logit_tokens", {"feature", "rank"}, "tokens each decoder direction promotes most"},
      {"feature_logit_values", {"feature", "rank"}, "their logits"},
      {"example_acts", {"feature", "example_rank"}, "with examples: each feature's top examples' "
                                                     "largest activation"},
      {"example_index", {"feature", "example_rank"}, "which example (meta examples)"},
      {"example_position", {"feature", "example_rank"}, "the token where it peaks"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
