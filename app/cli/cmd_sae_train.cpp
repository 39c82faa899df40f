// mechscope-cli sae-train: trains a sparse autoencoder on a model's activations at one hook point
// into an SAELens folder (probes/sae_train.h). Progress on stderr, the held-out metrics on stdout.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/util/cancel.h"
#include "core/util/error.h"
#include "probes/sae_train.h"

namespace mechscope::cli {
namespace {

std::string clock_text(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

sae::Architecture parse_arch(const std::string& text) {
  if (text == "relu" || text == "standard") return sae::Architecture::Standard;
  if (text == "topk") return sae::Architecture::TopK;
  throw Error("--arch takes relu or topk, got '" + text + "'.");
}

}  // namespace

int cmd_sae_train(const std::vector<std::string>& argv) {
  const probes::SaeTrainOptions defaults;
  auto specs = model_options();
  const std::vector<OptionSpec> own = {
      {"hook", "NAME", "hook point to read (e.g. blocks.2.hook_resid_pre; `info` lists them)", true},
      {"prompts", "FILE", "training text: one prompt per line (every tenth line is held out)"},
      {"task", "T[,T…]", "training text: task-suite examples (e.g. induction,ioi), seeded"},
      {"latents", "N", "SAE width (d_sae)", true},
      {"arch", "relu|topk", "architecture (default relu: SAELens' standard)"},
      {"k", "K", "topk: latents kept per token (default latents/8, 1…64)"},
      {"l1", "λ", "relu: sparsity coefficient on scaled activations (default " +
                      number_text(defaults.l1) + ")"},
      {"steps", "S", "training steps (default " + std::to_string(defaults.steps) + ")"},
      {"batch-size", "N", "token vectors per step (default " + std::to_string(defaults.batch_size) + ")"},
      {"lr", "LR", "Adam learning rate (default " + number_text(defaults.lr) + ")"},
      {"seed", "N", "seed of the initialisation, data order and task examples (default 1)"},
      {"buffer", "N", "token vectors per shuffled buffer fill (default " +
                          std::to_string(defaults.buffer_size) + ")"},
      {"prompt-batch", "N", "prompts per forward pass (default " +
                                std::to_string(defaults.prompt_batch) + ")"},
      {"include-bos", "", "train on the BOS position too (default: dropped)"},
      {"resample-every", "N", "resample dead latents every N steps (default " +
                                  std::to_string(defaults.resample_every) + "; 0: never)"},
      {"dead-window", "N", "steps without firing that make a latent dead (default " +
                               std::to_string(defaults.dead_window) + ")"},
      {"checkpoint-every", "N", "checkpoint every N steps (default " +
                                    std::to_string(defaults.checkpoint_every) + "; 0: at the end)"},
      {"eval-prompts", "N", "held-out prompts for the final metrics (default " +
                                std::to_string(defaults.eval_prompts) + ")"},
      {"out", "DIR", "output folder: SAELens cfg.json + sae_weights.safetensors, training.json", true},
      {"resume", "", "continue from DIR's checkpoint (an error when there is none; a checkpoint of "
                     "the same options is continued even without it)"},
  };
  specs.insert(specs.end(), own.begin(), own.end());
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("sae-train",
                       "Trains a sparse autoencoder on the model's activations at one hook point "
                       "(streamed in batches through a shuffled buffer; Adam; unit-norm decoder "
                       "rows; dead-latent resampling) and writes an SAELens folder with "
                       "training.json. Reports MSE, explained variance, L0, dead latents and the "
                       "next-token loss with the SAE spliced in, on held-out prompts. Ctrl-C "
                       "stops after writing a checkpoint; the same command continues it.",
                       specs);
    return 0;
  }
  probes::SaeTrainOptions o;
  o.hook = args.get("hook");
  if (args.has("prompts") && args.has("task")) throw Error("Give --prompts FILE or --task T, not both.");
  if (!args.has("prompts") && !args.has("task"))
    throw Error("SAE training needs prompts: give --prompts FILE or --task T.");
  o.prompts = args.get("prompts");
  o.task = args.get("task");
  o.latents = args.integer("latents", 0);
  o.architecture = parse_arch(args.get("arch", "relu"));
  if (args.has("k") && o.architecture != sae::Architecture::TopK)
    throw Error("--k applies to --arch topk only (relu's sparsity is --l1).");
  if (args.has("l1") && o.architecture != sae::Architecture::Standard)
    throw Error("--l1 applies to --arch relu only (topk's sparsity is --k).");
  o.k = args.integer("k", 0);
  if (args.has("k") && o.k < 1) throw Error("--k must be at least 1, got " + args.get("k") + ".");
  o.l1 = args.number("l1", o.l1);
  o.steps = args.integer("steps", o.steps);
  o.batch_size = args.integer("batch-size", o.batch_size);
  o.lr = args.number("lr", o.lr);
  const int64_t seed = args.integer("seed", int64_t(o.seed));
  if (seed < 0) throw Error("--seed must be ≥ 0, got " + args.get("seed") + ".");
  o.seed = uint64_t(seed);
  o.buffer_size = args.integer("buffer", o.buffer_size);
  o.prompt_batch = args.integer("prompt-batch", o.prompt_batch);
  o.include_bos = args.has("include-bos");
  o.resample_every = args.integer("resample-every", o.resample_every);
  o.dead_window = args.integer("dead-window", o.dead_window);
  o.checkpoint_every = args.integer("checkpoint-every", o.checkpoint_every);
  o.eval_prompts = args.integer("eval-prompts", o.eval_prompts);
  o.validate();  // before the model loads
  const std::string out = args.get("out");

  auto model = load_model_from_args(args);
  install_interrupt_handler();
  const bool tty = isatty(fileno(stderr)) != 0;
  const int64_t every = std::max<int64_t>(1, o.steps / 20);
  bool evaluating = false;
  const CancelScope scope([] { return interrupted(); });  // also stops inside a forward pass
  const auto result = probes::train_sae(
      *model, o, out, args.has("resume"), [&](const probes::SaeTrainProgress& p) {
        if (p.evaluating) {
          if (!evaluating) std::fprintf(stderr, "%sEvaluating on held-out prompts…\n", tty ? "\n" : "");
          evaluating = true;
          return !interrupted();
        }
        if (tty || p.step % every == 0 || p.step == p.steps) {
          std::fprintf(stderr,
                       "%sstep %lld/%lld loss %.4f EV %.3f L0 %.1f dead %.1f%% elapsed %s ETA %s%s",
                       tty ? "\r" : "", static_cast<long long>(p.step),
                       static_cast<long long>(p.steps), p.loss, p.explained_variance, p.l0,
                       100 * p.dead_fraction, clock_text(p.elapsed_seconds).c_str(),
                       clock_text(p.eta_seconds).c_str(), tty ? " " : "\n");
        }
        return !interrupted();
      });
  if (result.cancelled) {
    if (tty && !evaluating) std::fprintf(stderr, "\n");
    if (result.steps_done == 0 && !std::filesystem::exists(probes::sae_checkpoint_path(out))) {
      std::cerr << "Interrupted before the first step; nothing was written.\n";
    } else {
      std::cerr << "Interrupted at step " << result.steps_done << "; the checkpoint "
                << probes::sae_checkpoint_path(out).string()
                << " continues it (run the same command again).\n";
    }
    return 130;
  }
  const probes::SaeMetrics& m = result.metrics;
  std::printf("Trained %lld steps (%s, %lld latents) on %s in %s%s.\n",
              static_cast<long long>(result.steps_done),
              o.architecture == sae::Architecture::TopK
                  ? ("topk, k " + std::to_string(o.effective_k())).c_str()
                  : "relu",
              static_cast<long long>(o.latents), o.hook.c_str(), clock_text(result.seconds).c_str(),
              result.resumed_from > 0
                  ? (", resumed from step " + std::to_string(result.resumed_from)).c_str()
                  : "");
  std::printf("Held-out metrics (%lld prompts, %lld tokens):\n", static_cast<long long>(m.prompts),
              static_cast<long long>(m.tokens));
  std::printf("  MSE                  %.6g\n", m.mse);
  std::printf("  explained variance   %.4f\n", m.explained_variance);
  std::printf("  L0                   %.2f\n", m.l0);
  std::printf("  dead latents         %.1f%%\n", 100 * m.dead_fraction);
  std::printf("  CE loss clean        %.4f\n", m.ce_loss_clean);
  std::printf("  CE loss SAE spliced  %.4f\n", m.ce_loss_spliced);
  std::printf("  CE loss zero-ablated %.4f  (score %.3f)\n", m.ce_loss_zero_ablation, m.ce_loss_score);
  std::printf("Wrote %s (cfg.json, sae_weights.safetensors, training.json)\n", out.c_str());
  return 0;
}

}  // namespace mechscope::cli
