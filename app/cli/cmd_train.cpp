// mechscope-cli train: trains a model from a recipe into a Hugging Face-format folder.
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "probes/tasks/task.h"
#include "probes/training/trainer.h"

#include <sstream>

namespace mechscope::cli {
namespace {

std::string clock_text(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

}  // namespace

int cmd_train(const std::vector<std::string>& argv) {
  const std::vector<OptionSpec> specs = {
      {"recipe", "FILE.json", "the training recipe", true},
      {"out", "DIR", "output model folder (HF format)", true},
      {"resume", "", "continue from DIR/checkpoint when it exists"},
      {"steps", "N", "override the recipe's number of steps"},
  };
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("train",
                       "Trains a model on the task suite (AdamW, warm-up + cosine, clipping; "
                       "seeded). Ctrl-C stops after writing a checkpoint; --resume continues.",
                       specs);
    return 0;
  }
  training::Recipe recipe = training::load_recipe(args.get("recipe"));
  recipe.steps = args.integer("steps", recipe.steps);
  // The thread policy is main's configure_threads() (core/util/threads.h): LibTorch's threads on
  // every core with the products on them through oneDNN, OpenBLAS on one (the default text recipe
  // trains at 10,200 tokens/s, against 8,000 with one LibTorch thread beside OpenBLAS's own).
  install_interrupt_handler();
  auto result = training::train(recipe, args.get("out"), args.has("resume"),
                                [](const training::TrainProgress& p) {
                                  const int width = 30;
                                  const int done = int(width * p.step / std::max<int64_t>(1, p.steps));
                                  std::fprintf(stderr,
                                               "\r[%s%s] %lld/%lld loss %.4f lr %.2e %.0f tok/s "
                                               "elapsed %s ETA %s ",
                                               std::string(done, '#').c_str(),
                                               std::string(width - done, '.').c_str(),
                                               static_cast<long long>(p.step),
                                               static_cast<long long>(p.steps), p.loss, p.lr,
                                               p.tokens_per_second, clock_text(p.elapsed_seconds).c_str(),
                                               clock_text(p.eta_seconds).c_str());
                                  return !interrupted();
                                });
  std::fprintf(stderr, "\n");
  if (result.cancelled) {
    std::cerr << "Interrupted at step " << result.steps_done << "; a checkpoint is in "
              << args.get("out") << "/checkpoint (continue with --resume).\n";
    return 130;
  }
  std::cout << "Trained " << result.steps_done << " steps in " << clock_text(result.seconds)
            << ", final loss " << result.final_loss << "\nHeld-out accuracy:\n";
  for (const auto& [name, a] : result.accuracy)
    std::printf("  %-16s %6.1f%%  (%lld/%lld)\n", name.c_str(), 100 * a.accuracy(),
                static_cast<long long>(a.correct), static_cast<long long>(a.total));
  std::cout << "Wrote " << args.get("out") << "\n";
  return 0;
}

int cmd_evaluate(const std::vector<std::string>& argv) {
  auto specs = model_options();
  specs.push_back({"tasks", "A,B,…", "tasks to evaluate (default: all text tasks)"});
  specs.push_back({"examples", "N", "held-out examples per task (default 300)"});
  specs.push_back({"seed", "S", "seed of the held-out examples (default 7)"});
  specs.push_back({"max-words", "N", "prompt budget in words (default 120)"});
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("evaluate", "Per-task accuracy of a model on fresh task-suite examples.",
                       specs);
    return 0;
  }
  auto model = load_model_from_args(args);
  std::vector<std::string> names;
  if (args.has("tasks")) {
    std::stringstream ss(args.get("tasks"));
    for (std::string t; std::getline(ss, t, ',');) names.push_back(t);
  } else {
    for (const auto& n : tasks::task_names())
      if (n != "shapes_vqa") names.push_back(n);
  }
  auto acc = training::evaluate_tasks(*model, names, args.integer("examples", 300),
                                      static_cast<uint64_t>(args.integer("seed", 7)),
                                      args.integer("max-words", 120));
  for (const auto& [name, a] : acc)
    std::printf("%-16s %6.1f%%  (%lld/%lld)\n", name.c_str(), 100 * a.accuracy(),
                static_cast<long long>(a.correct), static_cast<long long>(a.total));
  return 0;
}

}  // namespace mechscope::cli
