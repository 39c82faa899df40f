// path_patching (Wang et al., IOI): the effect of each sender head on the metric through one path
// only — into the receivers' query/key/value input, or straight to the logits.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/metric.h"
#include "probes/patching.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

HookKind input_kind(const std::string& name) {
  if (name == "q") return HookKind::Q;
  if (name == "k") return HookKind::K;
  return HookKind::V;
}

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  c10::InferenceMode guard;
  const ModelConfig& c = model.config();
  const int L = c.n_layers;
  const int64_t H = c.n_heads, T = static_cast<int64_t>(in.tokens.size());
  const std::string receivers_text = options.string("receivers");
  const bool to_logits = receivers_text == "logits";
  const std::vector<std::pair<int, int>> receivers =
      to_logits ? std::vector<std::pair<int, int>>{} : parse_heads(model, receivers_text);
  const HookKind rkind = input_kind(options.string("receiver_input"));
  int first_receiver = L;
  for (const auto& r : receivers) first_receiver = std::min(first_receiver, r.first);
  if (!to_logits && first_receiver == 0)
    throw Error("A receiver in layer 0 has no earlier sender heads; choose receivers in later "
                "layers or 'logits'.");

  Metric metric(options.string("metric"), in);
  const at::Tensor clean_tokens = prompt_tensor(model, in.tokens);
  const KindCache clean = run_with_kinds(model, clean_tokens, {HookKind::Z, HookKind::ResidPre});
  const KindCache corrupt = run_with_kinds(model, prompt_tensor(model, *in.corrupt_tokens), {HookKind::Z});
  set_baselines(clean, corrupt, metric);
  report(progress, 0.1);

  // Senders: every head before the first receiver (every head for logits), grouped by layer.
  const int sender_layers = to_logits ? L : first_receiver;
  const int64_t n = sender_layers * H;
  at::Tensor effect = at::zeros({L, H}, at::kFloat);
  const int64_t batch = sweep_batch_size(model, T);
  // Receivers' input per receiver layer: the heads (KV groups for k/v) to patch.
  std::map<int, std::vector<int64_t>> receiver_heads;
  for (const auto& [l, h] : receivers)
    receiver_heads[l].push_back(rkind == HookKind::Q ? h : h / c.n_groups());

  int64_t done = 0;
  for (int sl = 0; sl < sender_layers; ++sl) {
    for (int64_t h0 = 0; h0 < H; h0 += batch) {
      const int64_t rn = std::min<int64_t>(batch, H - h0);
      // Step 1: the clean run, every head frozen at its clean z but the sender, which gets its
      // corrupted z; MLPs and norms recompute. Before layer sl this is the clean run itself.
      HookSet step1;
      for (int l = sl; l < L; ++l) {
        const at::Tensor frozen = clean.at(HookKind::Z, l).expand({rn, T, H, c.d_head});
        if (l == sl) {
          at::Tensor z = frozen.clone();  // [rows, pos, head, d_head]
          for (int64_t i = 0; i < rn; ++i)
            z[i].select(1, h0 + i).copy_(corrupt.at(HookKind::Z, l)[0].select(1, h0 + i));
          step1.add(HookKind::Z, l, [z](HookCall& hc) { hc.value = z; });
        } else {
          step1.add(HookKind::Z, l, [frozen](HookCall& hc) { hc.value = frozen; });
        }
      }
      std::map<int, at::Tensor> captured;  // receiver layer → its q/k/v [rows, pos, heads, d_head]
      for (const auto& [l, hs] : receiver_heads)
        step1.add(rkind, l, [&captured, l = l](HookCall& hc) { captured[l] = hc.value; });
      if (!to_logits) step1.add(HookKind::LnFinalScale, -1, [](HookCall& hc) { hc.stop = true; });
      const at::Tensor start1 = clean.at(HookKind::ResidPre, sl).expand({rn, T, c.d_model});
      const ForwardOutput out1 = model.run_from(sl, start1, {}, &step1);

      at::Tensor values;  // [rows]
      if (to_logits) {
        values = metric(last_position(out1.logits));
      } else {
        // Step 2: the clean run with only the receivers' input taken from step 1.
        HookSet step2;
        for (const auto& [l, hs] : receiver_heads) {
          const at::Tensor from = captured.at(l);
          const std::vector<int64_t> heads = hs;
          step2.add(rkind, l, [from, heads](HookCall& hc) {
            at::Tensor v = hc.value.clone();
            for (int64_t h : heads) v.select(2, h).copy_(from.select(2, h));
            hc.value = v;
          });
        }
        step2.add(HookKind::LnFinalScale, -1, [](HookCall& hc) { hc.stop = true; });
        const at::Tensor start2 =
            clean.at(HookKind::ResidPre, first_receiver).expand({rn, T, c.d_model});
        const ForwardOutput out2 = model.run_from(first_receiver, start2, {}, &step2);
        values = metric(model.unembed(out2.resid.select(1, -1)));
      }
      effect[sl].slice(0, h0, h0 + rn).copy_(values.to(at::kCPU).to(at::kFloat));
      done += rn;
      report(progress, 0.1 + 0.9 * double(done) / double(n));
    }
  }

  Result r;
  r.title = result_title("Path patching (→ " + receivers_text +
                             (to_logits ? "" : " " + options.string("receiver_input")) + ")",
                         in.prompt);
  r.arrays["effect"] =
      to_array(effect, {{"layer", index_labels("L", L)}, {"head", index_labels("H", H)}});
  r.meta = metric.meta();
  r.meta["receivers"] = receivers_text;
  r.meta["receiver_input"] = options.string("receiver_input");
  r.meta["sender_layers"] = sender_layers;
  return r;
}

}  // namespace

std::shared_ptr<const Probe> path_patching_probe() {
  ProbeInfo info;
  info.name = "path_patching";
  info.title = "Path patching";
  info.description =
      "For every sender head: the clean run with that head's output from the corrupted run, "
      "every other head frozen at its clean value, and only the receivers recomputed; the "
      "metric of the final logits (Wang et al.).";
  info.inputs = patching_inputs();
  info.options = {
      {"receivers", OptionSpec::Type::String, "logits", {}, {}, {},
       "receiver heads (L2H3,L2H5) or logits (the direct path to the output)"},
      {"receiver_input", OptionSpec::Type::String, "q", {"q", "k", "v"}, {}, {},
       "which input of the receiver heads carries the path"},
      metric_option()};
  info.arrays = {{"effect", {"layer", "head"},
                  "metric with the sender's path patched; senders not before the first receiver "
                  "get 0"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
