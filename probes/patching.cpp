#include "probes/patching.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <map>

#include "core/model/model.h"
#include "core/model/rotary.h"
#include "core/util/error.h"
#include "core/util/gemm.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

struct TargetRow {
  Target target;
  const char* name;
  HookKind kind;
};

const std::vector<TargetRow>& targets() {
  static const std::vector<TargetRow> rows = {
      {Target::ResidPre, "resid_pre", HookKind::ResidPre},
      {Target::ResidMid, "resid_mid", HookKind::ResidMid},
      {Target::ResidPost, "resid_post", HookKind::ResidPost},
      {Target::AttnOut, "attn_out", HookKind::AttnOut},
      {Target::MlpOut, "mlp_out", HookKind::MlpOut},
      {Target::Z, "z", HookKind::Z},
      {Target::Q, "q", HookKind::Q},
      {Target::K, "k", HookKind::K},
      {Target::V, "v", HookKind::V},
      {Target::Pattern, "pattern", HookKind::Pattern},
      {Target::Block, "block", HookKind::ResidPre},
      {Target::Neuron, "neuron", HookKind::MlpPost},
  };
  return rows;
}

/// Heads a head target has: n_kv_heads for k and v.
int64_t target_heads(const ModelConfig& c, Target t) {
  return (t == Target::K || t == Target::V) ? c.n_kv_heads : c.n_heads;
}

/// One patched variant: which activation, and where in it.
struct Cell {
  int layer;
  HookKind kind;
  int64_t pos;   // -1: every position
  int64_t head;  // -1: not a head target
};

std::vector<Cell> cells_of(const ModelConfig& c, Target target, bool per_position, int64_t T) {
  std::vector<Cell> cells;
  const int L = c.n_layers;
  if (target == Target::Block) {
    for (HookKind k : block_components())
      for (int l = 0; l < L; ++l)
        for (int64_t p = 0; p < T; ++p) cells.push_back({l, k, p, -1});
  } else if (is_head_target(target)) {
    const int64_t H = target_heads(c, target);
    for (int l = 0; l < L; ++l)
      if (per_position) {
        for (int64_t p = 0; p < T; ++p)
          for (int64_t h = 0; h < H; ++h) cells.push_back({l, target_hook(target), p, h});
      } else {
        for (int64_t h = 0; h < H; ++h) cells.push_back({l, target_hook(target), -1, h});
      }
  } else {
    for (int l = 0; l < L; ++l)
      for (int64_t p = 0; p < T; ++p) cells.push_back({l, target_hook(target), p, -1});
  }
  return cells;
}

/// Mask [rows, d1, d2, 1] (or [rows, d1, 1] for residual-shaped activations) selecting, in each
/// row whose cell has `kind`, the patched slice of an activation shaped like `like`.
at::Tensor cell_mask(const std::vector<const Cell*>& rows, HookKind kind, const at::Tensor& like) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const bool heads = like.dim() == 4;
  at::Tensor m = heads ? at::zeros({n, like.size(1), like.size(2), 1}, at::kBool)
                       : at::zeros({n, like.size(1), 1}, at::kBool);
  for (int64_t i = 0; i < n; ++i) {
    const Cell& c = *rows[i];
    if (c.kind != kind) continue;
    at::Tensor row = m[i];
    if (!heads) {
      row[c.pos].fill_(true);
    } else if (kind == HookKind::Pattern) {  // [head, query, key]
      (c.pos < 0 ? row[c.head] : row[c.head][c.pos]).fill_(true);
    } else {  // [pos, head, d_head]
      (c.pos < 0 ? row.select(1, c.head) : row[c.pos][c.head]).fill_(true);
    }
  }
  return m.to(like.device());
}

}  // namespace

std::vector<InputSpec> patching_inputs() {
  return {{Input::Prompt, true, "the clean prompt"},
          {Input::Corrupt, true, "the corrupted prompt (same number of tokens)"},
          {Input::Answer, true, "the clean answer (one token)"},
          {Input::Wrong, false, "the wrong answer for a logit difference (one token)"}};
}

std::vector<std::string> target_choices(bool with_neuron) {
  std::vector<std::string> out;
  for (const auto& r : targets())
    if (with_neuron || r.target != Target::Neuron) out.push_back(r.name);
  return out;
}

Target parse_target(const std::string& name) {
  for (const auto& r : targets())
    if (name == r.name) return r.target;
  std::string known;
  for (const auto& n : target_choices(true)) known += (known.empty() ? "" : ", ") + n;
  throw Error("Unknown target '" + name + "'; choose one of " + known + ".");
}

const char* target_name(Target target) {
  for (const auto& r : targets())
    if (r.target == target) return r.name;
  return "";
}

HookKind target_hook(Target target) {
  for (const auto& r : targets())
    if (r.target == target) return r.kind;
  return HookKind::Count;
}

bool is_head_target(Target t) {
  return t == Target::Z || t == Target::Q || t == Target::K || t == Target::V ||
         t == Target::Pattern;
}

const std::vector<HookKind>& block_components() {
  static const std::vector<HookKind> k = {HookKind::ResidPre, HookKind::AttnOut, HookKind::MlpOut};
  return k;
}

void check_target(const Model& model, Target target, bool per_position) {
  if (target == Target::ResidMid && model.config().parallel_attn_mlp)
    throw Error("This model computes attention and MLP in parallel, so it has no resid_mid; "
                "patch resid_pre, attn_out or mlp_out instead.");
  if (per_position && !is_head_target(target))
    throw Error(std::string("Option per_position applies to the head targets (z, q, k, v, "
                            "pattern), not to ") + target_name(target) + ".");
}

std::vector<Axis> effect_axes(const Model& model, Target target, bool per_position,
                              const std::vector<std::string>& token_text) {
  const ModelConfig& c = model.config();
  const Axis layer{"layer", index_labels("L", c.n_layers)};
  const Axis position{"position", token_text};
  if (target == Target::Block)
    return {{"component", {"resid_pre", "attn_out", "mlp_out"}}, layer, position};
  if (target == Target::Neuron) return {layer, {"neuron", {}}};
  if (is_head_target(target)) {
    const bool kv = (target == Target::K || target == Target::V) && c.n_kv_heads != c.n_heads;
    const Axis head{"head", index_labels(kv ? "KV" : "H", target_heads(c, target))};
    return per_position ? std::vector<Axis>{layer, position, head} : std::vector<Axis>{layer, head};
  }
  return {layer, position};
}

KindCache run_with_kinds(const Model& model, const at::Tensor& tokens,
                         const std::vector<HookKind>& kinds, bool all_logits,
                         const at::Tensor& pixels) {
  KindCache cache;
  HookSet hooks;
  if (!all_logits) hooks.add(HookKind::LnFinalScale, -1, [](HookCall& h) { h.stop = true; });
  for (HookKind k : kinds) {
    auto& slot = cache.acts[k];
    slot.assign(static_cast<size_t>(std::max<int64_t>(1, model.config().n_layers)), at::Tensor());
    hooks.add(k, HookSet::kEveryLayer,
              [&slot](HookCall& h) { slot[std::max(h.layer, 0)] = h.value; });
  }
  ForwardOutput out = run_tokens(model, tokens, pixels, &hooks);
  cache.logits = all_logits ? out.logits : model.unembed(out.resid.slice(1, -1));
  cache.resid_final = out.resid;
  return cache;
}

void set_baselines(const KindCache& clean, const KindCache& corrupt, Metric& metric) {
  metric.set_baselines(metric.raw(clean.logits.select(1, -1))[0].item<double>(),
                       metric.raw(corrupt.logits.select(1, -1))[0].item<double>());
}

namespace {

/// Splits one layer's cells, sorted by the first position they can change (`first`), into
/// contiguous groups of at most `batch` that each recompute positions first[group start]…: the
/// split with the fewest recomputed positions, counting `overhead` positions per forward pass
/// (each pass reads every weight of its layers once).
std::vector<std::pair<int64_t, int64_t>> suffix_groups(const std::vector<int64_t>& first,
                                                       int64_t T, int64_t batch,
                                                       int64_t overhead) {
  const int64_t n = static_cast<int64_t>(first.size());
  std::vector<int64_t> best(n + 1, std::numeric_limits<int64_t>::max()), from(n + 1, 0);
  best[0] = 0;
  for (int64_t j = 1; j <= n; ++j)
    for (int64_t i = std::max<int64_t>(0, j - batch); i < j; ++i) {
      const int64_t cost = best[i] + (j - i) * (T - first[i]) + overhead;
      if (cost < best[j]) best[j] = cost, from[j] = i;
    }
  std::vector<std::pair<int64_t, int64_t>> groups;
  for (int64_t j = n; j > 0; j = from[j]) groups.emplace_back(from[j], j);
  std::reverse(groups.begin(), groups.end());
  return groups;
}

}  // namespace

SweepResult activation_patching_sweep(const Model& model, const std::vector<int64_t>& clean,
                                      const std::vector<int64_t>& corrupt, Target target,
                                      bool per_position, Metric& metric, int64_t top_k,
                                      const Progress& progress, double lo, double hi) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const int64_t T = static_cast<int64_t>(clean.size());
  check_target(model, target, per_position);
  if (target == Target::Neuron)
    throw Error("Activation patching does not sweep single neurons (use attribution_patching).");

  std::vector<HookKind> kinds = target == Target::Block
                                    ? block_components()
                                    : std::vector<HookKind>{target_hook(target)};
  // The corrupted run keeps the patched kinds (to find cells whose patch changes nothing), the
  // residual stream (where patched runs start) and keys and values (the unchanged prefix).
  std::vector<HookKind> corrupt_kinds = kinds;
  for (HookKind k : {HookKind::ResidPre, HookKind::K, HookKind::V})
    if (std::find(corrupt_kinds.begin(), corrupt_kinds.end(), k) == corrupt_kinds.end())
      corrupt_kinds.push_back(k);
  const KindCache clean_cache = run_with_kinds(model, prompt_tensor(model, clean), kinds);
  const KindCache corrupt_cache =
      run_with_kinds(model, prompt_tensor(model, corrupt), corrupt_kinds);
  set_baselines(clean_cache, corrupt_cache, metric);

  const std::vector<Cell> cells = cells_of(c, target, per_position, T);
  const int64_t n = static_cast<int64_t>(cells.size());
  const int64_t k = std::min<int64_t>(top_k, c.d_vocab);
  at::Tensor effect = at::empty({n}, at::kFloat);
  at::Tensor top_prob = at::empty({n, k}, at::kFloat), top_token = at::empty({n, k}, at::kFloat);
  const int64_t batch = sweep_batch_size(model, T);

  // A cell whose clean slice equals the corrupted one (positions before the first differing
  // token, in every layer) patches nothing: its run is the corrupted run.
  const at::Tensor corrupt_last = corrupt_cache.logits.select(1, -1);  // [1, d_vocab]
  const at::Tensor corrupt_metric = metric(corrupt_last).to(at::kCPU).to(at::kFloat);
  const auto [corrupt_prob, corrupt_ids] = top_tokens(corrupt_last, k);
  std::vector<char> no_op(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    const Cell& cell = cells[i];
    const at::Tensor& a = clean_cache.at(cell.kind, cell.layer);
    const at::Tensor& b = corrupt_cache.at(cell.kind, cell.layer);
    no_op[i] = at::equal(at::where(cell_mask({&cell}, cell.kind, a), a, b), b);
    if (!no_op[i]) continue;
    effect[i].copy_(corrupt_metric[0]);
    top_prob[i].copy_(corrupt_prob[0]);
    top_token[i].copy_(corrupt_ids[0]);
  }

  // A patch at position p changes positions p… only (causal attention), so a patched run starts
  // from the corrupted residual stream at position s ≤ p of every cell in its group, with the
  // corrupted keys and values of positions < s as a prefix. A sliding window could hide prefix
  // keys from later queries: such models recompute every position.
  const bool suffixes = !c.sliding_window && c.causal;
  const bool rotary = c.positional == Positional::Rotary;
  auto first_changed = [&](const Cell& cell) -> int64_t {
    return suffixes && cell.pos >= 0 ? cell.pos : 0;
  };
  std::vector<int64_t> order;
  for (int64_t i = 0; i < n; ++i)
    if (!no_op[i]) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (cells[a].layer != cells[b].layer) return cells[a].layer < cells[b].layer;
    return first_changed(cells[a]) < first_changed(cells[b]);
  });
  // What a forward pass costs beyond its rows, in positions (measured on GPT-2 small, 20-token
  // prompts, 2 cores): with oneDNN's products thin passes are cheap (16–24 best: 1.1 s against
  // 1.3 s for one pass per layer); OpenBLAS's and the GPU's favour few wide ones (512).
  const int64_t pass_overhead = model.device().is_cpu() && fast_cpu_gemm() ? 20 : 512;
  const int64_t to_run = static_cast<int64_t>(order.size());
  int64_t done = 0;
  std::vector<at::Tensor> finals;  // [rows, d_model] per group, in `order`
  for (int64_t layer_start = 0; layer_start < to_run;) {
    const int layer = cells[order[layer_start]].layer;
    int64_t layer_end = layer_start;
    std::vector<int64_t> first;
    while (layer_end < to_run && cells[order[layer_end]].layer == layer)
      first.push_back(first_changed(cells[order[layer_end++]]));
    for (const auto& [g0, g1] : suffix_groups(first, T, batch, pass_overhead)) {
      const int64_t start = layer_start + g0, end = layer_start + g1, rn = end - start;
      const int64_t s = first[g0];  // the first recomputed position
      std::vector<Cell> shifted;
      for (int64_t i = start; i < end; ++i) {
        Cell cell = cells[order[i]];
        if (cell.pos >= 0) cell.pos -= s;
        shifted.push_back(cell);
      }
      std::vector<const Cell*> rows;
      for (const Cell& cell : shifted) rows.push_back(&cell);

      HookSet hooks;
      for (HookKind kind : kinds) {
        const at::Tensor& full = clean_cache.at(kind, layer);  // [1, ...]
        const at::Tensor patch = full.slice(kind == HookKind::Pattern ? 2 : 1, s);
        hooks.add(kind, layer, [&rows, kind, patch](HookCall& h) {
          h.value = at::where(cell_mask(rows, kind, h.value), patch, h.value);
        });
      }
      if (s > 0) {  // after the patches: the corrupted keys and values of positions < s
        std::vector<at::Tensor> prefix_k(c.n_layers), prefix_v(c.n_layers);
        const at::Tensor rel = at::arange(-s, 0, at::TensorOptions().dtype(at::kLong))
                                   .to(model.device())
                                   .view({1, s});  // [1, s] positions relative to s
        at::Tensor cos, sin;
        if (rotary) std::tie(cos, sin) = rotary_tables(c, rel);
        for (int l = layer; l < c.n_layers; ++l) {
          at::Tensor kp = corrupt_cache.at(HookKind::K, l).slice(1, 0, s);  // [1, s, KV, d_head]
          if (rotary) kp = apply_rotary(kp, cos, sin, c.rotary_dim);
          prefix_k[l] = kp.expand({rn, s, kp.size(2), kp.size(3)});
          const at::Tensor vp = corrupt_cache.at(HookKind::V, l).slice(1, 0, s);
          prefix_v[l] = vp.expand({rn, s, vp.size(2), vp.size(3)});
        }
        hooks.add(rotary ? HookKind::RotK : HookKind::K, HookSet::kEveryLayer,
                  [prefix_k](HookCall& h) { h.value = at::cat({prefix_k[h.layer], h.value}, 1); });
        hooks.add(HookKind::V, HookSet::kEveryLayer,
                  [prefix_v](HookCall& h) { h.value = at::cat({prefix_v[h.layer], h.value}, 1); });
      }
      // Past the patches, the last layer's MLP matters at the last position only.
      if (layer + 1 < c.n_layers && !c.parallel_attn_mlp)
        hooks.add(HookKind::ResidMid, c.n_layers - 1,
                  [](HookCall& h) { h.value = h.value.slice(1, -1); });
      hooks.add(HookKind::LnFinalScale, -1, [](HookCall& h) { h.stop = true; });
      const at::Tensor start_resid =
          corrupt_cache.at(HookKind::ResidPre, layer).slice(1, s).expand({rn, T - s, c.d_model});
      const ForwardOutput out = model.run_from(layer, start_resid, {}, &hooks);
      finals.push_back(out.resid.select(1, -1));  // [rows, d_model]
      done += rn;
      report(progress, lo + (hi - lo) * double(done) / double(std::max<int64_t>(to_run, 1)));
    }
    layer_start = layer_end;
  }
  // Every patched run's last position through the unembedding together (a thin product per
  // group cost GPT-2 small's sweep 0.18 s), in chunks of at most 256 MB of f32 logits.
  if (to_run > 0) {
    const at::Tensor all = at::cat(finals);  // [to_run, d_model], rows in `order`
    const int64_t chunk =
        std::max<int64_t>(1, (int64_t(64) << 20) / std::max<int64_t>(c.d_vocab, 1));
    for (int64_t r0 = 0; r0 < to_run; r0 += chunk) {
      const int64_t r1 = std::min(to_run, r0 + chunk);
      const at::Tensor last = model.unembed(all.slice(0, r0, r1));  // [rows, d_vocab]
      const at::Tensor idx =
          at::tensor(std::vector<int64_t>(order.begin() + r0, order.begin() + r1));
      effect.index_copy_(0, idx, metric(last).to(at::kCPU).to(at::kFloat));
      auto [prob, ids] = top_tokens(last, k);
      top_prob.index_copy_(0, idx, prob.to(at::kCPU));
      top_token.index_copy_(0, idx, ids.to(at::kCPU));
    }
  }
  report(progress, hi);

  std::vector<int64_t> shape;
  for (const Axis& a : effect_axes(model, target, per_position, std::vector<std::string>(T)))
    shape.push_back(a.name == "position" ? T : static_cast<int64_t>(a.labels.size()));
  std::vector<int64_t> kshape = shape;
  kshape.push_back(k);
  return {effect.view(shape), top_prob.view(kshape), top_token.view(kshape)};
}

std::vector<std::pair<int, int>> parse_heads(const Model& model, const std::string& text) {
  const ModelConfig& c = model.config();
  std::vector<std::pair<int, int>> heads;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(begin, end - begin);
    item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
    int l = -1, h = -1;
    char tail = 0;
    if (item.empty() || std::sscanf(item.c_str(), "L%dH%d%c", &l, &h, &tail) != 2)
      throw Error("Heads are written like L2H3,L2H5; got '" + item + "'.");
    if (l < 0 || l >= c.n_layers || h < 0 || h >= c.n_heads)
      throw Error("Head " + item + " does not exist: the model has " +
                  std::to_string(c.n_layers) + " layers of " + std::to_string(c.n_heads) +
                  " heads (L0H0 … L" + std::to_string(c.n_layers - 1) + "H" +
                  std::to_string(c.n_heads - 1) + ").");
    heads.emplace_back(l, h);
    begin = end + 1;
  }
  return heads;
}

}  // namespace mechscope::probes
