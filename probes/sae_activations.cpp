// Prompts → token vectors at a hook point, in small batches, through a shuffled buffer.
#include "probes/sae_activations.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>

#include "core/model/model.h"
#include "core/util/cancel.h"
#include "core/util/error.h"
#include "probes/tasks/task.h"

namespace mechscope::probes {
namespace {

bool readable_kind(HookKind kind) {
  switch (kind) {
    case HookKind::AttnScores:
    case HookKind::Pattern:
    case HookKind::ImageFeatures:
    case HookKind::Ln1Scale:
    case HookKind::Ln2Scale:
    case HookKind::Ln1PostScale:
    case HookKind::Ln2PostScale:
    case HookKind::LnFinalScale:
    case HookKind::QNormScale:
    case HookKind::KNormScale:
    case HookKind::Count: return false;
    default: return true;
  }
}

/// The kind of every point of the model's own table, by name.
std::map<std::string, HookKind> point_kinds(const Model& model) {
  std::map<std::string, HookKind> out;
  const HookPoints& points = model.hook_points();
  for (int i = 0; i < points.table_size(); ++i)
    if (!points.name(i).empty()) out[points.name(i)] = HookPoints::locate(i).first;
  return out;
}

/// "hook_embed, blocks.{0-4}.hook_resid_pre, …": names that differ only in their layer, once.
std::string grouped_names(const Model& model, const std::vector<std::string>& names) {
  const int64_t layers = model.config().n_layers;
  std::vector<std::string> groups;
  std::map<std::string, int64_t> count;
  auto pattern = [](const std::string& n) -> std::string {
    if (n.rfind("blocks.", 0) != 0) return n;
    const auto dot = n.find('.', 7);
    return dot == std::string::npos ? n : "blocks.{L}" + n.substr(dot);
  };
  for (const auto& n : names) {
    const std::string p = pattern(n);
    if (count[p]++ == 0) groups.push_back(p);
  }
  std::string out;
  const std::string range = "{0-" + std::to_string(layers - 1) + "}";
  for (const auto& g : groups) {
    std::string text = g;
    const auto at = text.find("{L}");
    if (at != std::string::npos) text.replace(at, 3, count[g] == layers ? range : "{L}");
    out += (out.empty() ? "" : ", ") + text;
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<std::string> sae_hook_names(const Model& model) {
  const auto kinds = point_kinds(model);
  std::vector<std::string> out;
  for (const std::string& name : model.hook_points().ordered()) {
    auto it = kinds.find(name);
    if (it != kinds.end() && readable_kind(it->second)) out.push_back(name);
  }
  return out;
}

int64_t sae_hook_width(const Model& model, const std::string& hook) {
  const auto kinds = point_kinds(model);
  auto it = kinds.find(hook);
  if (it == kinds.end() || !readable_kind(it->second)) {
    const std::string why = it == kinds.end() ? "is not a hook point of the model"
                                              : "holds no vector per position";
    throw Error("The hook '" + hook + "' " + why + " (" + model.source().path + ", " +
                std::to_string(model.config().n_layers) + " layers); an SAE can read " +
                grouped_names(model, sae_hook_names(model)) + ".");
  }
  return model.hook_width(it->second, 1);
}

std::string task_prompt_text(const Model& model, const std::vector<std::string>& words) {
  const std::string rendered = tasks::render_words(words);
  const Tokenizer* tok = model.tokenizer();
  if (tok == nullptr) return rendered;
  std::optional<int64_t> unk = tok->token_to_id("<unk>");
  if (!unk) unk = tok->token_to_id("[UNK]");
  if (!unk) return rendered;
  for (int64_t id : tok->encode(rendered, false).ids)
    if (id == *unk) {
      std::string spaced;
      for (const std::string& w : words) spaced += (spaced.empty() ? "" : " ") + w;
      return spaced;
    }
  return rendered;
}

// ---------------------------------------------------------------------------------------------
// SaePrompts

struct SaePrompts::Impl {
  uint64_t seed = 1;
  // A prompts file.
  std::filesystem::path file;
  std::vector<std::string> train_lines, heldout_lines;
  // The order of the training lines in the pass read last (a pass is shuffled once).
  mutable std::mutex order_mutex;
  mutable uint64_t order_epoch = UINT64_MAX;
  mutable std::vector<uint32_t> order;
  // Tasks: the examples are rendered with the model's tokenizer in mind.
  std::vector<std::shared_ptr<const tasks::Task>> tasks;
  std::string task_list;
  const Model* model = nullptr;
  tasks::TaskOptions task_options;

  tasks::Example example(uint64_t stream_seed, uint64_t i) const {
    const tasks::Task& task = *tasks[i % tasks.size()];
    std::mt19937_64 rng(tasks::example_seed(stream_seed, i));
    return task.sample(rng, task_options);
  }
};

SaePrompts SaePrompts::from_file(const std::filesystem::path& file, uint64_t seed) {
  if (!std::filesystem::is_regular_file(file))
    throw Error("The prompts file " + file.string() + " does not exist.");
  std::ifstream in(file);
  if (!in) throw Error("Cannot read the prompts file " + file.string() + ".");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty())
    throw Error("The prompts file " + file.string() + " holds no prompts (one prompt per line).");
  auto impl = std::make_shared<Impl>();
  impl->seed = seed;
  impl->file = file;
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool held = lines.size() >= 10 ? (i + 1) % 10 == 0
                                         : lines.size() > 1 && i + 1 == lines.size();
    (held ? impl->heldout_lines : impl->train_lines).push_back(lines[i]);
  }
  SaePrompts p;
  p.impl_ = impl;
  return p;
}

SaePrompts SaePrompts::from_tasks(const Model& model, const std::string& list, uint64_t seed) {
  auto impl = std::make_shared<Impl>();
  impl->seed = seed;
  impl->model = &model;
  impl->task_list = list;
  // Words count as tokens for mechscope's word-level models; the context bounds the rest.
  impl->task_options.max_words = std::max<int64_t>(8, std::min<int64_t>(128, model.config().n_ctx - 9));  // answers follow
  std::stringstream ss(list);
  for (std::string name; std::getline(ss, name, ',');) {
    name = trim(name);
    if (name.empty()) continue;
    if (name == "shapes_vqa")
      throw Error("The task shapes_vqa needs images; SAE training reads text prompts (use a "
                  "text task: induction, ioi, …).");
    impl->tasks.push_back(tasks::make_task(name));
  }
  if (impl->tasks.empty()) throw Error("--task names no task (e.g. --task induction,ioi).");
  SaePrompts p;
  p.impl_ = impl;
  return p;
}

std::string SaePrompts::train(uint64_t index) const {
  const Impl& m = *impl_;
  if (!m.tasks.empty()) return task_prompt_text(*m.model, m.example(m.seed, index).prompt);
  // Pass `epoch` over the training lines, in an order seeded by (seed, epoch).
  const uint64_t n = m.train_lines.size();
  const uint64_t epoch = index / n, i = index % n;
  std::lock_guard<std::mutex> lock(m.order_mutex);
  if (m.order_epoch != epoch) {
    m.order.resize(n);
    for (uint64_t j = 0; j < n; ++j) m.order[j] = uint32_t(j);
    std::mt19937_64 rng(tasks::example_seed(m.seed ^ 0x9e3779b97f4a7c15ULL, epoch));
    std::shuffle(m.order.begin(), m.order.end(), rng);
    m.order_epoch = epoch;
  }
  return m.train_lines[m.order[i]];
}

std::vector<SaeEvalText> SaePrompts::heldout(int64_t n) const {
  const Impl& m = *impl_;
  std::vector<SaeEvalText> out;
  if (!m.tasks.empty()) {
    for (int64_t i = 0; i < n; ++i) {
      const tasks::Example ex = m.example(m.seed + 1000003, uint64_t(i));
      std::vector<std::string> words = ex.prompt;
      words.insert(words.end(), ex.answer.begin(), ex.answer.end());
      out.push_back({task_prompt_text(*m.model, words), task_prompt_text(*m.model, ex.prompt)});
    }
    return out;
  }
  const auto& lines = m.heldout_lines.empty() ? m.train_lines : m.heldout_lines;
  for (int64_t i = 0; i < n && i < int64_t(lines.size()); ++i) out.push_back({lines[size_t(i)], ""});
  return out;
}

bool SaePrompts::heldout_is_separate() const { return impl_->tasks.size() || !impl_->heldout_lines.empty(); }

std::string SaePrompts::describe() const {
  const Impl& m = *impl_;
  if (!m.tasks.empty()) return "task " + m.task_list;
  return m.file.string() + " (" + std::to_string(m.train_lines.size() + m.heldout_lines.size()) +
         " lines, " + std::to_string(m.heldout_lines.size()) + " held out)";
}

std::string SaePrompts::dataset_path() const {
  const Impl& m = *impl_;
  return m.tasks.empty() ? std::filesystem::absolute(m.file).lexically_normal().string()
                         : "mechscope/tasks:" + m.task_list;
}

// ---------------------------------------------------------------------------------------------
// Batches and hook activations

PromptBatch encode_prompts(const Model& model, const std::vector<std::string>& prompts) {
  const Tokenizer* tok = model.tokenizer();
  if (tok == nullptr)
    throw Error("The model at " + model.source().path +
                " has no tokenizer; SAE training encodes text prompts (give --tokenizer).");
  const int64_t n_ctx = model.config().n_ctx;
  std::vector<std::vector<int64_t>> ids;
  int64_t longest = 1;
  for (const auto& p : prompts) {
    ids.push_back(tok->encode(p, true).ids);
    if (n_ctx > 0 && int64_t(ids.back().size()) > n_ctx) ids.back().resize(size_t(n_ctx));
    longest = std::max<int64_t>(longest, int64_t(ids.back().size()));
  }
  const int64_t B = int64_t(prompts.size());
  std::vector<int64_t> tokens(size_t(B * longest), 0), mask(size_t(B * longest), 0);
  const auto bos = tok->bos_id();
  bool bos_first = B > 0 && bos.has_value();
  for (int64_t b = 0; b < B; ++b) {
    const auto& row = ids[size_t(b)];
    for (size_t i = 0; i < row.size(); ++i) {
      tokens[size_t(b * longest) + i] = row[i];
      mask[size_t(b * longest) + i] = 1;
    }
    if (row.empty() || !bos || row[0] != *bos) bos_first = false;
  }
  PromptBatch out;
  out.tokens = at::tensor(tokens, at::kLong).view({B, longest}).to(model.device());
  out.mask = at::tensor(mask, at::kLong).view({B, longest}).to(model.device());
  out.bos_first = bos_first;
  return out;
}

at::Tensor hook_activations(const Model& model, const std::string& hook, const PromptBatch& batch) {
  c10::NoGradGuard no_grad;
  at::Tensor captured;
  HookSet hooks;
  hooks.add(hook, [&captured](HookCall& call) {
    captured = call.value;
    call.stop = true;
  });
  model.run(batch.tokens, batch.mask, &hooks);
  if (!captured.defined())
    throw Error("The forward pass never reached the hook " + hook + ".");
  if (captured.dim() == 4) captured = captured.reshape({captured.size(0), captured.size(1), -1});
  return captured.to(at::kFloat);
}

at::Tensor sae_positions(const PromptBatch& batch, bool include_bos) {
  at::Tensor keep = batch.mask.to(at::kBool).clone();
  if (batch.bos_first && !include_bos && keep.size(1) > 0) keep.select(1, 0).fill_(false);
  return keep;
}

// ---------------------------------------------------------------------------------------------
// ActivationBuffer

ActivationBuffer::ActivationBuffer(const Model& model, std::string hook, SaePrompts prompts,
                                   BufferOptions options)
    : model_(model), hook_(std::move(hook)), prompts_(std::move(prompts)), options_(options) {
  if (options_.capacity < 1 || options_.prompt_batch < 1)
    throw Error("The activation buffer needs a capacity and a prompt batch of at least 1.");
}

void ActivationBuffer::fill(int64_t index, uint64_t prompt_start) {
  std::vector<at::Tensor> parts;
  int64_t rows = 0, empty_batches = 0;
  uint64_t next = prompt_start;
  while (rows < options_.capacity) {
    throw_if_cancelled();
    std::vector<std::string> texts;
    for (int64_t i = 0; i < options_.prompt_batch; ++i) texts.push_back(prompts_.train(next++));
    const PromptBatch batch = encode_prompts(model_, texts);
    const at::Tensor acts = hook_activations(model_, hook_, batch);  // [B, T, d]
    const at::Tensor keep = sae_positions(batch, options_.include_bos);
    const at::Tensor where = keep.reshape(-1).nonzero().squeeze(1);
    at::Tensor kept = acts.reshape({-1, acts.size(-1)}).index_select(0, where);  // [n, d]
    if (kept.size(0) == 0) {
      if (++empty_batches >= 64)
        throw Error("The prompts (" + prompts_.describe() + ") give no token positions at " +
                    hook_ + " besides BOS: each encodes to nothing more.");
      continue;
    }
    rows += kept.size(0);
    parts.push_back(kept);
  }
  rows_ = at::cat(parts, 0).contiguous();
  const auto gen = at::detail::createCPUGenerator(tasks::example_seed(options_.seed ^ 0x5ae5ae5aULL,
                                                                      uint64_t(index)));
  order_ = at::randperm(rows_.size(0), gen, at::TensorOptions().dtype(at::kLong)).to(rows_.device());
  state_.fill = index;
  state_.prompt_start = prompt_start;
  state_.next_prompt = next;
  state_.consumed = 0;
}

void ActivationBuffer::ensure_filled() {
  if (state_.fill < 0) fill(0, 0);
}

at::Tensor ActivationBuffer::next(int64_t n) {
  ensure_filled();
  if (n > rows_.size(0))
    throw Error("A batch of " + std::to_string(n) + " vectors is larger than the activation " +
                "buffer's fill (" + std::to_string(rows_.size(0)) + "); use a larger buffer.");
  if (state_.consumed + n > rows_.size(0)) fill(state_.fill + 1, state_.next_prompt);
  const at::Tensor idx = order_.narrow(0, state_.consumed, n);
  state_.consumed += n;
  return rows_.index_select(0, idx);
}

void ActivationBuffer::restore(const BufferState& state) {
  if (state.fill < 0) {
    state_ = BufferState{};
    rows_ = at::Tensor();
    order_ = at::Tensor();
    return;
  }
  fill(state.fill, state.prompt_start);
  if (state_.next_prompt != state.next_prompt || state.consumed > rows_.size(0))
    throw Error("The activation buffer cannot be restored: re-reading fill " +
                std::to_string(state.fill) + " from prompt " + std::to_string(state.prompt_start) +
                " gave different data than the checkpoint recorded (the prompts or the model "
                "changed).");
  state_.consumed = state.consumed;
}

}  // namespace mechscope::probes
