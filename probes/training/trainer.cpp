#include "probes/training/trainer.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>

#include "core/io/hf_export.h"
#include "core/io/safetensors.h"
#include "core/model/loader.h"
#include "core/model/vision.h"
#include "core/util/error.h"
#include "probes/tasks/vocabulary.h"
#include "probes/training/batch.h"

namespace mechscope::training {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// Random weights in GPT-2's scheme: N(0, 0.02), output projections scaled by 1/sqrt(2 L).
CanonicalTensors init_weights(const ModelConfig& c, uint64_t seed) {
  at::manual_seed(seed);
  const double std = 0.02, out_std = 0.02 / std::sqrt(2.0 * c.n_layers);
  const int64_t D = c.d_model, Q = c.n_heads * c.d_head, KV = c.n_kv_heads * c.d_head, M = c.d_mlp;
  CanonicalTensors t;
  t["embed.weight"] = at::randn({c.d_vocab, D}) * std;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    t[b + "ln1.weight"] = at::ones({D});
    t[b + "ln2.weight"] = at::ones({D});
    t[b + "attn.q.weight"] = at::randn({Q, D}) * std;
    t[b + "attn.k.weight"] = at::randn({KV, D}) * std;
    t[b + "attn.v.weight"] = at::randn({KV, D}) * std;
    t[b + "attn.o.weight"] = at::randn({D, Q}) * out_std;
    t[b + "mlp.gate.weight"] = at::randn({M, D}) * std;
    t[b + "mlp.in.weight"] = at::randn({M, D}) * std;
    t[b + "mlp.out.weight"] = at::randn({D, M}) * out_std;
  }
  t["ln_final.weight"] = at::ones({D});
  if (!c.tied_embeddings) t["unembed.weight"] = at::randn({c.d_vocab, D}) * std;
  return t;
}

/// A CLIP-style vision tower + projector with random weights, for a vision-language recipe.
std::shared_ptr<VisionEncoder> init_vision(const VisionRecipe& vr, int64_t d_text) {
  VisionConfig vc;
  vc.image_size = vr.image_size;
  vc.patch_size = vr.patch_size;
  vc.feature_layer = vr.feature_layer;
  vc.keep_class_token = vr.keep_class_token;
  vc.projector_act = Activation::Gelu;
  ModelConfig v = clip_tower_config(vr.d_model, vr.n_layers, vr.n_heads, vr.d_mlp,
                                    vc.patches() + 1, 1e-5, Activation::QuickGelu);
  const double std = 0.02, out_std = 0.02 / std::sqrt(2.0 * v.n_layers);
  const int64_t D = v.d_model, M = v.d_mlp;
  CanonicalTensors t;
  t["pos_embed.weight"] = at::randn({v.n_ctx, D}) * std;
  t["ln_pre.weight"] = at::ones({D});
  t["ln_pre.bias"] = at::zeros({D});
  for (int64_t l = 0; l < v.n_layers; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    for (const char* n : {"ln1", "ln2"}) {
      t[b + n + ".weight"] = at::ones({D});
      t[b + n + ".bias"] = at::zeros({D});
    }
    for (const char* n : {"attn.q", "attn.k", "attn.v"}) {
      t[b + n + ".weight"] = at::randn({D, D}) * std;
      t[b + n + ".bias"] = at::zeros({D});
    }
    t[b + "attn.o.weight"] = at::randn({D, D}) * out_std;
    t[b + "attn.o.bias"] = at::zeros({D});
    t[b + "mlp.in.weight"] = at::randn({M, D}) * std;
    t[b + "mlp.in.bias"] = at::zeros({M});
    t[b + "mlp.out.weight"] = at::randn({D, M}) * out_std;
    t[b + "mlp.out.bias"] = at::zeros({D});
  }
  auto tower = std::make_unique<Model>(v, Weights::assemble(v, std::move(t), "the vision recipe"),
                                       nullptr, ModelSource{"", "training"}, "vision.");
  ImagePreprocess pre;
  pre.shortest_edge = pre.crop_height = pre.crop_width = vr.image_size;
  pre.mean = {0.5f, 0.5f, 0.5f};
  pre.std = {0.5f, 0.5f, 0.5f};
  return std::make_shared<VisionEncoder>(
      vc, std::move(tower), at::randn({D, vc.channels, vr.patch_size, vr.patch_size}) * std,
      at::randn({D}) * std, at::randn({d_text, D}) * std, at::zeros({d_text}),
      at::randn({d_text, d_text}) * std, at::zeros({d_text}), pre);
}

/// Every trainable tensor of the model (text, and vision when present), named.
std::vector<std::pair<std::string, at::Tensor*>> trainable(Model& model) {
  auto out = model.weights().named_tensors();
  if (model.vision() != nullptr)
    for (auto& nt : model.vision()->named_tensors()) out.push_back(nt);
  return out;
}

/// The examples of step `step`: tasks drawn by mixture weight, all from seeds derived from
/// (recipe seed, step), so a resumed run sees exactly the data an uninterrupted one would.
std::vector<tasks::Example> step_examples(const Recipe& r,
                                          const std::vector<std::unique_ptr<tasks::Task>>& tasks,
                                          const std::vector<double>& weights, int64_t step) {
  std::mt19937_64 rng(tasks::example_seed(r.seed, uint64_t(step)));
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  tasks::TaskOptions opts;
  opts.max_words = r.max_words;
  std::vector<tasks::Example> out;
  for (int64_t i = 0; i < r.batch_size; ++i) out.push_back(tasks[pick(rng)]->sample(rng, opts));
  return out;
}

/// The examples sorted by prompt + answer length (stable, so the order is deterministic) and
/// split into `n` near-equal consecutive chunks.
std::vector<std::vector<tasks::Example>> length_sorted_chunks(std::vector<tasks::Example> examples,
                                                              int64_t n) {
  std::stable_sort(examples.begin(), examples.end(), [](const auto& a, const auto& b) {
    return a.prompt.size() + a.answer.size() < b.prompt.size() + b.answer.size();
  });
  std::vector<std::vector<tasks::Example>> chunks;
  const size_t N = examples.size(), per = (N + size_t(n) - 1) / size_t(n);
  for (size_t i = 0; i < N; i += per)
    chunks.emplace_back(std::make_move_iterator(examples.begin() + i),
                        std::make_move_iterator(examples.begin() + std::min(N, i + per)));
  return chunks;
}

void save_checkpoint(const fs::path& dir, Model& model, torch::optim::Optimizer& opt,
                     int64_t step) {
  fs::create_directories(dir);
  std::map<std::string, at::Tensor> tensors;
  for (auto& [name, t] : trainable(model)) tensors[name] = t->detach();
  write_safetensors(dir / "weights.safetensors", tensors);
  torch::save(opt, (dir / "optimizer.pt.tmp").string());
  fs::rename(dir / "optimizer.pt.tmp", dir / "optimizer.pt");
  std::ofstream(dir / "state.json.tmp") << nlohmann::json{{"step", step}}.dump();
  fs::rename(dir / "state.json.tmp", dir / "state.json");
}

int64_t load_checkpoint(const fs::path& dir, Model& model, torch::optim::Optimizer& opt) {
  const int64_t step =
      nlohmann::json::parse(read_text_file(dir / "state.json")).at("step").get<int64_t>();
  SafetensorsFile f(dir / "weights.safetensors");
  {
    at::NoGradGuard no_grad;
    for (auto& [name, t] : trainable(model)) {
      at::Tensor saved = f.tensor(name, at::kFloat);
      if (saved.sizes() != t->sizes())
        throw Error("The checkpoint in " + dir.string() + " does not match the recipe (tensor " +
                    name + ").");
      t->copy_(saved);
    }
  }
  torch::load(opt, (dir / "optimizer.pt").string());
  return step;
}

}  // namespace

TrainResult train(const Recipe& r, const fs::path& out_dir, bool resume,
                  const std::function<bool(const TrainProgress&)>& progress) {
  fs::create_directories(out_dir);
  // The project's word-level tokenizer, written as a standard tokenizer.json.
  tasks::write_word_level_tokenizer(out_dir / "tokenizer.json", tasks::project_vocabulary());
  std::shared_ptr<const Tokenizer> tokenizer =
      load_hf_tokenizer(out_dir / "tokenizer.json", out_dir / "tokenizer_config.json");
  WordIds words(*tokenizer);

  ModelConfig cfg = r.model_config(tokenizer->vocab_size());
  cfg.bos_token_id = tokenizer->bos_id();
  cfg.eos_token_id = tokenizer->eos_id();
  Model model(cfg, Weights::assemble(cfg, init_weights(cfg, r.seed), "the recipe " + r.name),
              tokenizer, ModelSource{out_dir.string(), "training"});
  if (r.vision) {
    auto image_token = tokenizer->token_to_id("<image>");
    if (!image_token) throw Error("The project vocabulary lacks the <image> token.");
    model.set_vision(init_vision(*r.vision, cfg.d_model), *image_token);
  }
  std::vector<at::Tensor> decay, no_decay;
  for (auto& [name, t] : trainable(model)) {
    *t = t->detach().clone().set_requires_grad(true);
    (t->dim() >= 2 ? decay : no_decay).push_back(*t);
  }
  if (cfg.tied_embeddings) model.weights().unembed_w = model.weights().embed;

  auto make_group = [&](std::vector<at::Tensor> params, double wd) {
    auto o = std::make_unique<torch::optim::AdamWOptions>(r.lr);
    o->betas(std::make_tuple(r.beta1, r.beta2)).weight_decay(wd);
    return torch::optim::OptimizerParamGroup(std::move(params), std::move(o));
  };
  torch::optim::AdamW optimizer(
      std::vector<torch::optim::OptimizerParamGroup>{make_group(decay, r.weight_decay),
                                                     make_group(no_decay, 0.0)},
      torch::optim::AdamWOptions(r.lr));
  std::vector<at::Tensor> all_params = decay;
  all_params.insert(all_params.end(), no_decay.begin(), no_decay.end());

  const fs::path ckpt = out_dir / "checkpoint";
  int64_t step = 0;
  if (resume && fs::exists(ckpt / "state.json")) step = load_checkpoint(ckpt, model, optimizer);

  // Every task of the recipe (curriculum phases included); each step weighs them by its phase.
  std::vector<std::unique_ptr<tasks::Task>> task_list;
  std::vector<std::string> names;
  for (const auto* mix : [&] {
         std::vector<const std::map<std::string, double>*> m = {&r.tasks};
         for (const auto& p : r.curriculum) m.push_back(&p.tasks);
         return m;
       }())
    for (const auto& [name, weight] : *mix)
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        task_list.push_back(tasks::make_task(name));
        names.push_back(name);
      }
  auto mixture_at = [&](int64_t s) {
    const auto& m = r.tasks_at(s);
    std::vector<double> w;
    for (const auto& n : names) w.push_back(m.count(n) ? m.at(n) : 0.0);
    return w;
  };

  TrainResult result;
  const auto start = Clock::now();
  double smoothed = 0;
  int64_t tokens = 0;
  const int64_t first_step = step;
  for (; step < r.steps; ++step) {
    const double lr = r.lr_at(step);
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    const auto examples = step_examples(r, task_list, mixture_at(step), step);
    optimizer.zero_grad();
    double loss_sum = 0;
    const auto chunks = length_sorted_chunks(examples, r.micro_batches);
    std::vector<TokenBatch> batches;
    double total_weight = 0;
    for (const auto& chunk : chunks) {
      batches.push_back(r.vision ? make_batch(chunk, words,
                                              [&](std::vector<int64_t> ids) {
                                                return model.expand_image_tokens(ids);
                                              })
                                 : make_batch(chunk, words));
      const TokenBatch& b = batches.back();
      total_weight += (b.answer_weight + r.lm_loss_weight * b.mask).sum().item<double>();
    }
    for (size_t c = 0; c < chunks.size(); ++c) {
      const TokenBatch& batch = batches[c];
      at::Tensor logits;  // [batch, pos, d_vocab]
      if (r.vision) {
        const auto& pre = model.vision()->preprocess();
        logits = model.run_multimodal(batch.inputs, pixel_batch(chunks[c], pre.mean, pre.std),
                                      batch.mask).logits;
      } else {
        logits = model.forward(batch.inputs, batch.mask);
      }
      at::Tensor nll = -at::log_softmax(logits, -1)
                            .gather(-1, batch.targets.unsqueeze(-1))
                            .squeeze(-1);  // [batch, pos]
      at::Tensor weight = batch.answer_weight + r.lm_loss_weight * batch.mask;
      at::Tensor loss = (nll * weight).sum() / total_weight;
      loss.backward();
      loss_sum += loss.item<double>();
      tokens += batch.mask.sum().item<int64_t>();
    }
    torch::nn::utils::clip_grad_norm_(all_params, r.grad_clip);
    optimizer.step();

    smoothed = step == first_step ? loss_sum : 0.95 * smoothed + 0.05 * loss_sum;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    TrainProgress p{step + 1, r.steps, smoothed, lr, tokens / std::max(elapsed, 1e-9), elapsed,
                    elapsed / double(step + 1 - first_step) * double(r.steps - step - 1)};
    const bool go_on = progress ? progress(p) : true;
    if ((r.checkpoint_every > 0 && (step + 1) % r.checkpoint_every == 0) || !go_on)
      save_checkpoint(ckpt, model, optimizer, step + 1);
    if (!go_on) {
      result.cancelled = true;
      ++step;
      break;
    }
  }
  result.steps_done = step;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.final_loss = smoothed;
  if (result.cancelled) return result;

  if (r.vision) {
    export_hf_llava(model, out_dir);
  } else {
    export_hf_llama(model.weights(), out_dir);
  }
  // Held-out accuracy on seeds the training never used.
  result.accuracy = evaluate_tasks(model, names, r.eval_examples, r.seed + 1000003, r.max_words);
  nlohmann::json acc;
  for (const auto& [name, a] : result.accuracy)
    acc[name] = {{"accuracy", a.accuracy()}, {"correct", a.correct}, {"total", a.total}};
  nlohmann::json log = {{"recipe", r.to_json()},      {"steps", result.steps_done},
                        {"seconds", result.seconds},  {"final_loss", result.final_loss},
                        {"heldout_accuracy", acc},    {"mechscope_version", MECHSCOPE_VERSION},
                        {"resumed_from_step", first_step}};
  std::ofstream(out_dir / "training.json") << log.dump(2) << "\n";
  return result;
}

}  // namespace mechscope::training
