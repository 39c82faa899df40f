// Reconstruction, sparsity and spliced next-token loss of an SAE on prompts.
#include "probes/sae_evaluate.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <limits>

#include "core/model/model.h"
#include "core/sae/sae_hooks.h"
#include "core/util/error.h"
#include "probes/sae_activations.h"

namespace mechscope::probes {
namespace {

/// Sum of next-token NLL at the target positions (`targets` [batch, pos] bool: token t is
/// predicted from position t − 1), and their count.
std::pair<double, int64_t> next_token_nll(const at::Tensor& logits, const PromptBatch& batch,
                                          const at::Tensor& targets) {
  if (logits.size(1) < 2) return {0.0, 0};
  const int64_t T = logits.size(1);
  const at::Tensor lp = at::log_softmax(logits.narrow(1, 0, T - 1).to(at::kFloat), -1);
  const at::Tensor next = batch.tokens.narrow(1, 1, T - 1);
  const at::Tensor nll = -lp.gather(-1, next.unsqueeze(-1)).squeeze(-1);
  const at::Tensor w = targets.narrow(1, 1, T - 1).to(at::kFloat);
  return {(nll * w).sum().item<double>(), w.sum().item<int64_t>()};
}

/// `inner` at every position but a leading BOS, which keeps the model's own value.
HookFn except_bos(HookFn inner, bool keep_first) {
  return [inner, keep_first](HookCall& call) {
    at::Tensor first;
    if (keep_first) first = call.value.select(1, 0).clone();
    inner(call);
    if (keep_first) {
      call.value = call.value.clone();
      call.value.select(1, 0).copy_(first);
    }
  };
}

/// Where a batch of texts is measured: reconstruction positions and next-token targets.
struct Scoring {
  at::Tensor recon;    // [batch, pos] bool
  at::Tensor targets;  // [batch, pos] bool
};

Scoring scoring(const Model& model, const PromptBatch& batch, const std::vector<SaeEvalText>& texts,
                bool include_bos) {
  Scoring s;
  s.recon = sae_positions(batch, include_bos);
  s.targets = batch.mask.to(at::kBool).clone();
  s.targets.select(1, 0).fill_(false);
  const int64_t T = batch.tokens.size(1);
  const at::Tensor cols = at::arange(T, batch.tokens.options()).unsqueeze(0);  // [1, T]
  std::vector<int64_t> prompt_len;
  bool any = false;
  for (const auto& t : texts) {
    any = any || !t.prompt.empty();
    prompt_len.push_back(t.prompt.empty() ? 0 : int64_t(model.tokenizer()->encode(t.prompt, true).ids.size()));
  }
  if (!any) return s;
  const at::Tensor len = at::tensor(prompt_len, at::kLong).to(batch.tokens.device()).unsqueeze(1);
  const at::Tensor answered = len > 0;  // [B, 1]
  // A task example: reconstruction on its prompt, next-token loss on its answer.
  s.recon = s.recon.logical_and(answered.logical_not().logical_or(cols < len));
  s.targets = s.targets.logical_and(answered.logical_not().logical_or(cols >= len));
  return s;
}

}  // namespace

nlohmann::json SaeMetrics::to_json() const {
  return {{"prompts", prompts},
          {"tokens", tokens},
          {"mse", mse},
          {"explained_variance", explained_variance},
          {"l0", l0},
          {"dead_fraction", dead_fraction},
          {"scored_tokens", scored_tokens},
          {"ce_loss_clean", ce_loss_clean},
          {"ce_loss_spliced", ce_loss_spliced},
          {"ce_loss_zero_ablation", ce_loss_zero_ablation},
          {"ce_loss_score", ce_loss_score}};
}

SaeMetrics evaluate_sae(const Model& model, std::shared_ptr<const sae::Sae> sae,
                        const std::vector<SaeEvalText>& texts, bool include_bos,
                        int64_t prompt_batch, const std::function<bool(double)>& progress) {
  if (!sae) throw Error("No SAE to evaluate.");
  sae::check_fits(*sae, model);
  const std::string& hook = sae->cfg.hook_name;
  prompt_batch = std::max<int64_t>(1, prompt_batch);
  c10::NoGradGuard no_grad;
  SaeMetrics m;
  m.prompts = int64_t(texts.size());
  double se = 0, nll_clean = 0, nll_sae = 0, nll_zero = 0, active = 0;
  int64_t predicted = 0;
  at::Tensor x_sum, x_sq_sum;  // [d_in] for the variance about the mean
  at::Tensor fired;            // [d_sae] bool
  const double steps = double((texts.size() + size_t(prompt_batch) - 1) / size_t(prompt_batch));
  double done = 0;
  for (size_t start = 0; start < texts.size(); start += size_t(prompt_batch)) {
    const std::vector<SaeEvalText> part(
        texts.begin() + long(start),
        texts.begin() + long(std::min(texts.size(), start + size_t(prompt_batch))));
    std::vector<std::string> strings;
    for (const auto& t : part) strings.push_back(t.text);
    const PromptBatch batch = encode_prompts(model, strings);
    const Scoring score = scoring(model, batch, part, include_bos);
    const bool keep_first = batch.bos_first && !include_bos;

    // Clean run, reading the hook.
    at::Tensor acts;
    HookSet read;
    read.add(hook, [&acts](HookCall& call) { acts = call.value; });
    const at::Tensor clean = model.run(batch.tokens, batch.mask, &read).logits;
    if (!acts.defined()) throw Error("The forward pass never reached the hook " + hook + ".");
    if (acts.dim() == 4) acts = acts.reshape({acts.size(0), acts.size(1), -1});
    const at::Tensor where = score.recon.reshape(-1).nonzero().squeeze(1);
    const at::Tensor x = acts.reshape({-1, acts.size(-1)}).index_select(0, where).to(at::kFloat);
    if (x.size(0) > 0) {
      const at::Tensor xs = x.to(sae->W_enc.device());
      const at::Tensor f = sae->encode(xs);
      const at::Tensor x_hat = sae->decode(f, xs);
      se += (x_hat - xs).pow(2).sum().item<double>();
      active += (f > 0).sum().item<double>();
      const at::Tensor any = (f > 0).any(0);
      fired = fired.defined() ? fired.logical_or(any) : any;
      const at::Tensor s = xs.to(at::kDouble).sum(0), sq = xs.to(at::kDouble).pow(2).sum(0);
      x_sum = x_sum.defined() ? x_sum + s : s;
      x_sq_sum = x_sq_sum.defined() ? x_sq_sum + sq : sq;
      m.tokens += x.size(0);
    }
    const auto [c, n] = next_token_nll(clean, batch, score.targets);
    nll_clean += c;
    predicted += n;

    HookSet spliced;
    spliced.add(hook, except_bos(sae::splice_hook(sae, sae::SpliceOptions{}), keep_first));
    nll_sae += next_token_nll(model.run(batch.tokens, batch.mask, &spliced).logits, batch,
                              score.targets).first;

    HookSet zeroed;
    zeroed.add(hook, except_bos([](HookCall& call) { call.value = at::zeros_like(call.value); },
                                keep_first));
    nll_zero += next_token_nll(model.run(batch.tokens, batch.mask, &zeroed).logits, batch,
                               score.targets).first;

    done += 1;
    if (progress && !progress(done / steps)) throw Cancelled();
  }
  if (m.tokens == 0)
    throw Error("The evaluation prompts hold no position to measure the SAE on at " + hook + ".");
  const double N = double(m.tokens), D = double(sae->cfg.d_in);
  m.mse = se / (N * D);
  // Σ‖x − x̄‖² = Σ‖x‖² − N‖x̄‖².
  const double total = (x_sq_sum.sum().item<double>() - (x_sum.pow(2).sum().item<double>() / N));
  m.explained_variance = total > 0 ? 1.0 - se / total : 0.0;
  m.l0 = active / N;
  m.dead_fraction = 1.0 - fired.to(at::kDouble).mean().item<double>();
  m.scored_tokens = predicted;
  const double P = std::max<double>(1.0, double(predicted));
  m.ce_loss_clean = nll_clean / P;
  m.ce_loss_spliced = nll_sae / P;
  m.ce_loss_zero_ablation = nll_zero / P;
  const double gap = m.ce_loss_zero_ablation - m.ce_loss_clean;
  m.ce_loss_score = gap != 0 ? (m.ce_loss_zero_ablation - m.ce_loss_spliced) / gap
                             : std::numeric_limits<double>::quiet_NaN();
  return m;
}

}  // namespace mechscope::probes
