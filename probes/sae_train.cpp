// SAE training: the step (loss, gradient projection, Adam, renormalisation), dead-latent
// resampling, checkpoints and the final SAELens folder with training.json. See sae_train.h.
#include "probes/sae_train.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>

#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/sae/sae_io.h"
#include "core/session/result.h"
#include "core/util/error.h"
#include "core/util/gemm.h"
#include "core/util/memory.h"
#include "probes/result_meta.h"
#include "probes/sae_activations.h"
#include "probes/tasks/task.h"

namespace mechscope::probes {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kStateKey = "mechscope_sae_checkpoint";
constexpr int kCheckpointFormat = 1;
// Options that do not change the weights a run ends with (a checkpoint may continue under others).
const char* const kFreeOptions[] = {"steps", "checkpoint_every", "eval_prompts"};

const char* arch_text(sae::Architecture a) {
  return a == sae::Architecture::TopK ? "topk" : "relu";
}

/// The trainable tensors and their Adam moments.
struct Params {
  at::Tensor W_enc, W_dec, b_enc, b_dec;
  std::vector<std::pair<std::string, at::Tensor*>> named() {
    return {{"W_enc", &W_enc}, {"W_dec", &W_dec}, {"b_enc", &b_enc}, {"b_dec", &b_dec}};
  }
};

struct Forward {
  at::Tensor pre, f, x_hat;
};

/// The training forward pass on scaled activations x [n, d_in].
Forward forward(const Params& p, const at::Tensor& x, sae::Architecture arch, int64_t k) {
  Forward out;
  out.pre = mechscope::addmm(p.b_enc, x - p.b_dec, p.W_enc);
  if (arch == sae::Architecture::TopK) {
    auto top = out.pre.topk(k, -1);
    out.f = at::zeros_like(out.pre).scatter(-1, std::get<1>(top), at::relu(std::get<0>(top)));
  } else {
    out.f = at::relu(out.pre);
  }
  out.x_hat = mechscope::addmm(p.b_dec, out.f, p.W_dec);
  return out;
}

/// The run's state besides the tensors: what a checkpoint's metadata holds.
struct RunState {
  int64_t step = 0;
  int64_t adam_t = 0;
  BufferState buffer;
  double scale = 0;  // 0: not measured yet
  std::string started;
  double seconds = 0;  // training time of earlier sessions
  std::vector<SaeResample> resamples;
  double loss = 0, mse = 0, ev = 0, l0 = 0;  // smoothed

  nlohmann::json to_json() const {
    nlohmann::json rs = nlohmann::json::array();
    for (const auto& r : resamples) rs.push_back({r.step, r.latents});
    return {{"step", step},
            {"adam_t", adam_t},
            {"buffer",
             {{"fill", buffer.fill},
              {"prompt_start", buffer.prompt_start},
              {"next_prompt", buffer.next_prompt},
              {"consumed", buffer.consumed}}},
            {"scale", scale},
            {"started", started},
            {"seconds", seconds},
            {"resamples", rs},
            {"smoothed", {{"loss", loss}, {"mse", mse}, {"explained_variance", ev}, {"l0", l0}}}};
  }
  static RunState from_json(const nlohmann::json& j) {
    RunState s;
    s.step = j.at("step").get<int64_t>();
    s.adam_t = j.at("adam_t").get<int64_t>();
    const auto& b = j.at("buffer");
    s.buffer.fill = b.at("fill").get<int64_t>();
    s.buffer.prompt_start = b.at("prompt_start").get<uint64_t>();
    s.buffer.next_prompt = b.at("next_prompt").get<uint64_t>();
    s.buffer.consumed = b.at("consumed").get<int64_t>();
    s.scale = j.at("scale").get<double>();
    s.started = j.at("started").get<std::string>();
    s.seconds = j.at("seconds").get<double>();
    for (const auto& r : j.at("resamples")) s.resamples.push_back({r.at(0).get<int64_t>(), r.at(1).get<int64_t>()});
    const auto& m = j.at("smoothed");
    s.loss = m.at("loss").get<double>();
    s.mse = m.at("mse").get<double>();
    s.ev = m.at("explained_variance").get<double>();
    s.l0 = m.at("l0").get<double>();
    return s;
  }
};

/// The options that must match for a checkpoint to continue.
nlohmann::json recipe_key(const SaeTrainOptions& o) {
  nlohmann::json j = o.to_json();
  for (const char* free : kFreeOptions) j.erase(free);
  return j;
}

class Trainer {
 public:
  Trainer(const Model& model, const SaeTrainOptions& o, fs::path out, nlohmann::json identity,
          const std::function<bool(const SaeTrainProgress&)>& progress)
      : model_(model),
        o_(o),
        out_(std::move(out)),
        identity_(std::move(identity)),
        progress_(progress),
        d_in_(sae_hook_width(model, o.hook)),
        k_(o.effective_k()),
        prompts_(o.task.empty() ? SaePrompts::from_file(o.prompts, o.seed)
                                : SaePrompts::from_tasks(model, o.task, o.seed)),
        buffer_(model, o.hook, prompts_,
                BufferOptions{o.buffer_size, o.prompt_batch, o.include_bos, o.seed}) {}

  SaeTrainResult run(bool require_checkpoint);

 private:
  void init_fresh();
  bool load_checkpoint();
  void adopt_checkpoint_state(const fs::path& file, const nlohmann::json& meta);
  void save_checkpoint();
  void step();
  void resample();
  std::shared_ptr<sae::Sae> folded() const;
  nlohmann::json log(const SaeMetrics& metrics, const std::string& finished, double wall) const;
  double session_seconds() const {
    return std::chrono::duration<double>(Clock::now() - session_start_).count();
  }
  at::TensorOptions float_options() const {
    return at::TensorOptions().dtype(at::kFloat).device(model_.device());
  }

  const Model& model_;
  const SaeTrainOptions& o_;
  fs::path out_;
  nlohmann::json identity_;
  const std::function<bool(const SaeTrainProgress&)>& progress_;
  int64_t d_in_;
  int64_t k_;
  SaePrompts prompts_;
  ActivationBuffer buffer_;
  Params p_;
  std::map<std::string, at::Tensor> m_, v_;  // Adam moments by parameter name
  at::Tensor since_fired_;                   // [d_sae] int64
  RunState s_;
  Clock::time_point session_start_ = Clock::now();
  int64_t first_step_ = 0;
};

void Trainer::init_fresh() {
  buffer_.ensure_filled();
  const at::Tensor rows = buffer_.rows();
  const double mean_norm = rows.norm(2, 1).mean().item<double>();
  s_.scale = mean_norm > 0 ? std::sqrt(double(d_in_)) / mean_norm : 1.0;
  s_.started = iso_time_now();
  const auto gen = at::detail::createCPUGenerator(o_.seed);
  at::Tensor dec = at::randn({o_.latents, d_in_}, gen, at::TensorOptions().dtype(at::kFloat));
  dec = dec / dec.norm(2, 1, true);
  p_.W_dec = dec.to(model_.device());
  p_.W_enc = p_.W_dec.t().contiguous();
  p_.b_enc = at::zeros({o_.latents}, float_options());
  p_.b_dec = (rows * s_.scale).mean(0).contiguous();
  for (auto& [name, t] : p_.named()) {
    m_[name] = at::zeros_like(*t);
    v_[name] = at::zeros_like(*t);
  }
  since_fired_ = at::zeros({o_.latents}, at::TensorOptions().dtype(at::kLong).device(model_.device()));
}

void Trainer::save_checkpoint() {
  std::map<std::string, at::Tensor> tensors;
  for (auto& [name, t] : p_.named()) {
    tensors[name] = t->detach().cpu().contiguous();
    tensors["adam.m." + name] = m_.at(name).cpu().contiguous();
    tensors["adam.v." + name] = v_.at(name).cpu().contiguous();
  }
  tensors["steps_since_fired"] = since_fired_.cpu().contiguous();
  RunState state = s_;
  state.seconds = s_.seconds + session_seconds();
  state.buffer = buffer_.state();
  const nlohmann::json meta = {{"format", kCheckpointFormat},
                               {"recipe", recipe_key(o_)},
                               {"options", o_.to_json()},
                               {"model", identity_},
                               {"state", state.to_json()}};
  write_safetensors(sae_checkpoint_path(out_), tensors, {{kStateKey, meta.dump()}});
}

/// Refuses a checkpoint of another recipe or model (naming what differs), else adopts its state.
void Trainer::adopt_checkpoint_state(const fs::path& file, const nlohmann::json& meta) {
  if (meta.value("format", 0) != kCheckpointFormat)
    throw Error("The checkpoint " + file.string() + " has an unknown format; delete it to start over.");
  const nlohmann::json want = recipe_key(o_), have = meta.at("recipe");
  std::string diff;
  for (auto i = want.begin(); i != want.end(); ++i) {
    const auto there = have.find(i.key());
    const std::string before = there == have.end() ? "unset" : there->dump();
    if (there == have.end() || *there != i.value())
      diff += (diff.empty() ? "" : ", ") + i.key() + " " + before + " there, " + i.value().dump() + " now";
  }
  auto field = [](const nlohmann::json& identity, const char* key) {
    return identity.is_object() ? identity.value(key, std::string()) : std::string();
  };
  const nlohmann::json& old_model = meta.contains("model") ? meta.at("model") : nlohmann::json();
  const std::string old_hash = field(old_model, "hash"), new_hash = field(identity_, "hash");
  if (!old_hash.empty() && !new_hash.empty() && old_hash != new_hash)
    diff += std::string(diff.empty() ? "" : ", ") + "the model (" + field(old_model, "path") +
            " there, " + field(identity_, "path") + " now)";
  if (!diff.empty())
    throw Error("The checkpoint " + file.string() + " belongs to a different recipe (" + diff +
                "); train with the same options to continue it, choose another output folder, "
                "or delete the checkpoint to start over.");
  s_ = RunState::from_json(meta.at("state"));
}

bool Trainer::load_checkpoint() {
  const fs::path file = sae_checkpoint_path(out_);
  if (!fs::exists(file)) return false;
  SafetensorsFile f(file);
  auto it = f.metadata().find(kStateKey);
  if (it == f.metadata().end())
    throw Error("The checkpoint " + file.string() + " was not written by mechscope's SAE trainer.");
  try {
    adopt_checkpoint_state(file, nlohmann::json::parse(it->second));
  } catch (const nlohmann::json::exception& e) {
    throw Error("The checkpoint " + file.string() + " has an unreadable state (" + e.what() +
                "); delete it to start over.");
  }
  auto load = [&](const std::string& name, const std::vector<int64_t>& shape) {
    if (!f.contains(name)) throw Error("The checkpoint " + file.string() + " lacks " + name + ".");
    at::Tensor t = f.tensor(name, at::kFloat);
    if (t.sizes().vec() != shape)
      throw Error("The checkpoint " + file.string() + " holds " + name + " of another shape.");
    return t.clone().to(model_.device());
  };
  const std::map<std::string, std::vector<int64_t>> shapes = {
      {"W_enc", {d_in_, o_.latents}}, {"W_dec", {o_.latents, d_in_}},
      {"b_enc", {o_.latents}},        {"b_dec", {d_in_}}};
  for (auto& [name, t] : p_.named()) {
    *t = load(name, shapes.at(name));
    m_[name] = load("adam.m." + name, shapes.at(name));
    v_[name] = load("adam.v." + name, shapes.at(name));
  }
  since_fired_ = f.tensor("steps_since_fired").to(at::kLong).clone().to(model_.device());
  buffer_.restore(s_.buffer);
  return true;
}

void Trainer::step() {
  const at::Tensor x = buffer_.next(o_.batch_size) * s_.scale;
  for (auto& [name, t] : p_.named()) t->set_requires_grad(true);
  const Forward fw = forward(p_, x, o_.architecture, k_);
  const at::Tensor err = fw.x_hat - x;
  const at::Tensor mse = err.pow(2).sum(-1).mean();
  at::Tensor loss = mse;
  if (o_.architecture == sae::Architecture::Standard) {
    loss = loss + o_.l1 * (fw.f * p_.W_dec.norm(2, 1)).sum(-1).mean();
  } else if (o_.aux_k_coefficient > 0) {
    const at::Tensor dead = since_fired_ >= o_.dead_window;
    const int64_t n_dead = dead.sum().item<int64_t>();
    if (n_dead > 0) {
      const int64_t k_aux = std::max<int64_t>(1, std::min(d_in_ / 2, n_dead));
      const at::Tensor masked = at::where(dead.unsqueeze(0), fw.pre,
                                          at::full_like(fw.pre, -std::numeric_limits<float>::infinity()));
      auto top = masked.topk(k_aux, -1);
      const at::Tensor fa =
          at::zeros_like(fw.pre).scatter(-1, std::get<1>(top), at::relu(std::get<0>(top)));
      const at::Tensor aux = (mechscope::mm(fa, p_.W_dec) + err.detach()).pow(2).sum(-1).mean();
      loss = loss + o_.aux_k_coefficient * std::min(1.0, double(n_dead) / double(k_aux)) * aux;
    }
  }
  loss.backward();

  c10::NoGradGuard no_grad;
  for (auto& [name, t] : p_.named()) t->set_requires_grad(false);
  // The gradient along each decoder row only changes its norm, which renormalising undoes.
  at::Tensor g_dec = p_.W_dec.grad();
  g_dec.sub_((g_dec * p_.W_dec).sum(1, true) * p_.W_dec);
  ++s_.adam_t;
  const double bc1 = 1.0 - std::pow(o_.beta1, double(s_.adam_t));
  const double bc2 = 1.0 - std::pow(o_.beta2, double(s_.adam_t));
  for (auto& [name, t] : p_.named()) {
    at::Tensor g = t->grad();
    at::Tensor& m = m_.at(name);
    at::Tensor& v = v_.at(name);
    m.mul_(o_.beta1).add_(g, 1.0 - o_.beta1);
    v.mul_(o_.beta2).addcmul_(g, g, 1.0 - o_.beta2);
    const at::Tensor denom = (v.sqrt() / std::sqrt(bc2)).add_(1e-8);
    t->addcdiv_(m, denom, -o_.lr / bc1);
    t->mutable_grad() = at::Tensor();
  }
  p_.W_dec.div_(p_.W_dec.norm(2, 1, true));

  const at::Tensor active = fw.f.detach() > 0;
  since_fired_.add_(1).masked_fill_(active.any(0), 0);
  const double l = loss.item<double>(), e = mse.item<double>();
  const double l0 = active.sum(-1).to(at::kDouble).mean().item<double>();
  const double var = (x - x.mean(0, true)).pow(2).sum().item<double>();
  const double ev = var > 0 ? 1.0 - err.detach().pow(2).sum().item<double>() / var : 0.0;
  if (s_.step == 0) {  // fresh start (a resumed run keeps its smoothed values)
    s_.loss = l, s_.mse = e, s_.l0 = l0, s_.ev = ev;
  } else {
    s_.loss = 0.95 * s_.loss + 0.05 * l;
    s_.mse = 0.95 * s_.mse + 0.05 * e;
    s_.l0 = 0.95 * s_.l0 + 0.05 * l0;
    s_.ev = 0.95 * s_.ev + 0.05 * ev;
  }
}

void Trainer::resample() {
  c10::NoGradGuard no_grad;
  const at::Tensor dead = since_fired_ >= o_.dead_window;
  const at::Tensor idx = dead.nonzero().squeeze(1);
  const int64_t n = idx.size(0);
  if (n == 0) return;
  const at::Tensor pool = buffer_.rows() * s_.scale;  // [N, d_in]
  const Forward fw = forward(p_, pool, o_.architecture, k_);
  at::Tensor weight = (fw.x_hat - pool).pow(2).sum(-1).to(at::kDouble).pow(2).cpu();
  if (!(weight.sum().item<double>() > 0) || !std::isfinite(weight.sum().item<double>()))
    weight = at::ones_like(weight);
  const auto gen = at::detail::createCPUGenerator(
      tasks::example_seed(o_.seed ^ 0x7e5a3b1e5a3b1eULL, uint64_t(s_.step)));
  // Each dead latent draws its input independently (with replacement), as Anthropic describes.
  const at::Tensor picks = at::multinomial(weight, n, /*replacement=*/true, gen).to(pool.device());
  at::Tensor dirs = pool.index_select(0, picks) - p_.b_dec;
  dirs = dirs / dirs.norm(2, 1, true).clamp_min(1e-12);
  const at::Tensor alive = dead.logical_not();
  const at::Tensor enc_norms = p_.W_enc.norm(2, 0);
  const double alive_norm =
      alive.any().item<bool>() ? enc_norms.index_select(0, alive.nonzero().squeeze(1)).mean().item<double>()
                               : 1.0;
  p_.W_dec.index_copy_(0, idx, dirs);
  p_.W_enc.index_copy_(1, idx, (dirs * (0.2 * alive_norm)).t().contiguous());
  p_.b_enc.index_fill_(0, idx, 0.0);
  for (auto* moments : {&m_, &v_}) {
    moments->at("W_dec").index_fill_(0, idx, 0.0);
    moments->at("W_enc").index_fill_(1, idx, 0.0);
    moments->at("b_enc").index_fill_(0, idx, 0.0);
  }
  since_fired_.index_fill_(0, idx, 0);
  s_.resamples.push_back({s_.step, n});
}

std::shared_ptr<sae::Sae> Trainer::folded() const {
  auto out = std::make_shared<sae::Sae>();
  sae::SaeConfig& c = out->cfg;
  c.architecture = o_.architecture;
  c.d_in = d_in_;
  c.d_sae = o_.latents;
  c.k = o_.architecture == sae::Architecture::TopK ? k_ : 0;
  c.hook_name = o_.hook;
  c.apply_b_dec_to_input = true;
  c.normalize_activations = "none";
  c.model_name = identity_.value("name", std::string());
  const Tokenizer* tok = model_.tokenizer();
  c.extra = {{"metadata",
              {{"context_size", model_.config().n_ctx},
               {"prepend_bos", tok != nullptr && tok->bos_id().has_value()},
               {"dataset_path", prompts_.dataset_path()},
               {"hook_head_index", nullptr}}}};
  // Per-head points are read flattened: SAELens names that for hook_z.
  const std::string z = "hook_z";
  if (o_.hook.size() >= z.size() && o_.hook.compare(o_.hook.size() - z.size(), z.size(), z) == 0)
    c.extra["reshape_activations"] = "hook_z";
  // Raw activations x = x_scaled / s: f and x̂ scale by 1/s, which b_enc / s and b_dec / s give.
  out->W_enc = p_.W_enc.detach().cpu().clone();
  out->W_dec = p_.W_dec.detach().cpu().clone();
  out->b_enc = (p_.b_enc.detach() / s_.scale).cpu();
  out->b_dec = (p_.b_dec.detach() / s_.scale).cpu();
  return out;
}

nlohmann::json Trainer::log(const SaeMetrics& metrics, const std::string& finished,
                            double wall) const {
  nlohmann::json rs = nlohmann::json::array();
  for (const auto& r : s_.resamples) rs.push_back({{"step", r.step}, {"latents", r.latents}});
  return {{"recipe", o_.to_json()},
          {"seed", o_.seed},
          {"model", identity_},
          {"hook", o_.hook},
          {"architecture", arch_text(o_.architecture)},
          {"d_in", d_in_},
          {"d_sae", o_.latents},
          {"k", o_.architecture == sae::Architecture::TopK ? nlohmann::json(k_) : nlohmann::json()},
          {"data", prompts_.describe()},
          {"dataset_path", prompts_.dataset_path()},
          {"heldout_separate", prompts_.heldout_is_separate()},
          {"activation_scale", s_.scale},
          {"steps", s_.step},
          {"tokens", s_.step * o_.batch_size},
          {"resumed_from_step", first_step_},
          {"resamples", rs},
          {"started", s_.started},
          {"finished", finished},
          {"training_seconds", s_.seconds + session_seconds()},
          {"wall_seconds", wall},
          {"final_training",
           {{"loss", s_.loss}, {"mse", s_.mse}, {"explained_variance", s_.ev}, {"l0", s_.l0},
            {"dead_fraction", (since_fired_ >= o_.dead_window).to(at::kDouble).mean().item<double>()}}},
          {"metrics", metrics.to_json()},
          {"mechscope_version", MECHSCOPE_VERSION}};
}

SaeTrainResult Trainer::run(bool require_checkpoint) {
  SaeTrainResult result;
  // Weights, gradients and Adam's two moments of W_enc and W_dec, and a batch's latents (a few
  // copies), before anything is allocated or written.
  const uint64_t params = uint64_t(d_in_) * uint64_t(o_.latents);
  check_fits_in_memory(4 * (8 * params + 6 * uint64_t(o_.batch_size) * uint64_t(o_.latents)),
                       "Training an SAE of " + std::to_string(o_.latents) + " latents on " +
                           o_.hook + " (d_in " + std::to_string(d_in_) + ")");
  fs::create_directories(out_);
  if (load_checkpoint()) {
    result.resumed_from = s_.step;
  } else if (require_checkpoint) {
    throw Error("There is no checkpoint to resume in " + out_.string() + " (" +
                sae_checkpoint_path(out_).filename().string() + ").");
  } else {
    try {
      init_fresh();
    } catch (const Cancelled&) {  // while reading the first fill: nothing to keep
      result.cancelled = true;
      return result;
    }
  }
  first_step_ = s_.step;
  const auto report = [&](bool evaluating) {
    if (!progress_) return true;
    SaeTrainProgress p;
    p.step = s_.step;
    p.steps = o_.steps;
    p.loss = s_.loss;
    p.mse = s_.mse;
    p.explained_variance = s_.ev;
    p.l0 = s_.l0;
    p.dead_fraction = (since_fired_ >= o_.dead_window).to(at::kDouble).mean().item<double>();
    p.elapsed_seconds = s_.seconds + session_seconds();
    const int64_t done = s_.step - first_step_;
    p.eta_seconds = done > 0 ? session_seconds() / double(done) * double(std::max<int64_t>(0, o_.steps - s_.step)) : 0;
    p.evaluating = evaluating;
    return progress_(p);
  };
  const auto finish_cancelled = [&] {
    save_checkpoint();
    result.cancelled = true;
    result.steps_done = s_.step;
    result.seconds = s_.seconds + session_seconds();
    result.activation_scale = s_.scale;
    result.resamples = s_.resamples;
    return result;
  };
  try {
    while (s_.step < o_.steps) {
      step();
      ++s_.step;
      const int64_t R = o_.resample_every;
      if (R > 0 && s_.step % R == 0 && s_.step + R <= o_.steps) resample();
      if (!report(false)) return finish_cancelled();
      if (o_.checkpoint_every > 0 && s_.step % o_.checkpoint_every == 0 && s_.step < o_.steps)
        save_checkpoint();
    }
  } catch (const Cancelled&) {
    return finish_cancelled();
  }
  save_checkpoint();  // the final state: a cancelled evaluation resumes straight into it

  const auto sae = folded();
  sae::save_sae(*sae, out_);
  auto measured = std::make_shared<sae::Sae>(*sae);
  measured->to(model_.device());
  try {
    result.metrics = evaluate_sae(model_, measured, prompts_.heldout(o_.eval_prompts),
                                  o_.include_bos, o_.prompt_batch,
                                  [&](double) { return report(true); });
  } catch (const Cancelled&) {
    result.cancelled = true;
    result.steps_done = s_.step;
    result.seconds = s_.seconds + session_seconds();
    return result;
  }
  result.steps_done = s_.step;
  result.seconds = s_.seconds + session_seconds();
  result.activation_scale = s_.scale;
  result.resamples = s_.resamples;
  result.sae = sae;
  result.log = log(result.metrics, iso_time_now(), result.seconds);
  const fs::path tmp = out_ / "training.json.tmp";
  {
    std::ofstream f(tmp);
    f << result.log.dump(2) << "\n";
    if (!f) throw Error("Cannot write " + tmp.string() + ".");
  }
  fs::rename(tmp, out_ / "training.json");
  return result;
}

}  // namespace

int64_t SaeTrainOptions::effective_k() const {
  if (architecture != sae::Architecture::TopK) return 0;
  return k > 0 ? k : std::clamp<int64_t>(latents / 8, 1, 64);
}

nlohmann::json SaeTrainOptions::to_json() const {
  return {{"hook", hook},
          {"prompts", prompts.empty() ? nlohmann::json() : nlohmann::json(prompts.string())},
          {"task", task.empty() ? nlohmann::json() : nlohmann::json(task)},
          {"latents", latents},
          {"architecture", arch_text(architecture)},
          {"k", architecture == sae::Architecture::TopK ? nlohmann::json(effective_k()) : nlohmann::json()},
          {"l1", architecture == sae::Architecture::Standard ? nlohmann::json(l1) : nlohmann::json()},
          {"steps", steps},
          {"batch_size", batch_size},
          {"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"buffer_size", buffer_size},
          {"prompt_batch", prompt_batch},
          {"include_bos", include_bos},
          {"resample_every", resample_every},
          {"dead_window", dead_window},
          {"aux_k_coefficient",
           architecture == sae::Architecture::TopK ? nlohmann::json(aux_k_coefficient) : nlohmann::json()},
          {"checkpoint_every", checkpoint_every},
          {"eval_prompts", eval_prompts},
          {"seed", seed}};
}

void SaeTrainOptions::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw Error(what);
  };
  need(!hook.empty(), "SAE training needs a hook point (--hook NAME, e.g. blocks.2.hook_resid_pre).");
  need(prompts.empty() != task.empty(),
       prompts.empty() ? "SAE training needs prompts: give --prompts FILE or --task T."
                       : "Give --prompts FILE or --task T, not both.");
  need(latents >= 1, "--latents must be at least 1, got " + std::to_string(latents) + ".");
  need(architecture == sae::Architecture::Standard || architecture == sae::Architecture::TopK,
       "SAE training knows the architectures relu (standard) and topk, not jumprelu.");
  if (architecture == sae::Architecture::TopK)
    need(effective_k() >= 1 && effective_k() <= latents,
         "--k must be between 1 and --latents (" + std::to_string(latents) + "), got " +
             std::to_string(k) + ".");
  need(std::isfinite(l1) && l1 >= 0, "--l1 must be a number ≥ 0, got " + std::to_string(l1) + ".");
  need(steps >= 1, "--steps must be at least 1, got " + std::to_string(steps) + ".");
  need(batch_size >= 1, "--batch-size must be at least 1, got " + std::to_string(batch_size) + ".");
  need(std::isfinite(lr) && lr > 0, "--lr must be a positive number, got " + std::to_string(lr) + ".");
  need(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam's betas must lie in [0, 1).");
  need(buffer_size >= batch_size, "--buffer (" + std::to_string(buffer_size) +
                                      ") must hold at least one batch (--batch-size " +
                                      std::to_string(batch_size) + ").");
  need(prompt_batch >= 1, "--prompt-batch must be at least 1, got " + std::to_string(prompt_batch) + ".");
  need(resample_every >= 0, "--resample-every must be ≥ 0 (0: never), got " + std::to_string(resample_every) + ".");
  need(dead_window >= 1, "--dead-window must be at least 1, got " + std::to_string(dead_window) + ".");
  need(std::isfinite(aux_k_coefficient) && aux_k_coefficient >= 0, "The AuxK coefficient must be ≥ 0.");
  need(checkpoint_every >= 0, "--checkpoint-every must be ≥ 0 (0: only at the end), got " +
                                  std::to_string(checkpoint_every) + ".");
  need(eval_prompts >= 1, "--eval-prompts must be at least 1, got " + std::to_string(eval_prompts) + ".");
}

fs::path sae_checkpoint_path(const fs::path& out_dir) { return out_dir / "checkpoint.safetensors"; }

SaeTrainResult train_sae(const Model& model, const SaeTrainOptions& options, const fs::path& out_dir,
                         bool require_checkpoint,
                         const std::function<bool(const SaeTrainProgress&)>& progress,
                         nlohmann::json model_identity) {
  options.validate();
  sae_hook_width(model, options.hook);  // names the valid hooks before anything is read
  c10::InferenceMode no_inference(false);
  c10::AutoGradMode grad(true);
  if (model_identity.is_null()) model_identity = probes::model_identity(model);
  Trainer trainer(model, options, out_dir, std::move(model_identity), progress);
  return trainer.run(require_checkpoint);
}

}  // namespace mechscope::probes
