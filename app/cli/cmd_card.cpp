// mechscope-cli card: measures a trained model with the project's own tools and writes its
// MODEL_CARD.md (recipe, data, training time, held-out accuracy, heads and ablations).
#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/io/mapped_file.h"
#include "core/util/error.h"
#include "app/cli/card_sections.h"
#include "core/model/vision.h"
#include "probes/tasks/task.h"
#include "probes/training/evaluate.h"

namespace mechscope::cli {

std::string pct(double x) {
  char b[16];
  std::snprintf(b, sizeof b, "%.1f%%", 100 * x);
  return b;
}

std::string fixed(double x, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, x);
  return b;
}

std::string head_name(const std::pair<int64_t, int64_t>& h) {
  return "L" + std::to_string(h.first) + "H" + std::to_string(h.second);
}

int cmd_card(const std::vector<std::string>& argv) {
  auto specs = model_options();
  specs.push_back({"examples", "N", "held-out examples per task (default 300)"});
  specs.push_back({"out", "FILE", "where to write the card (default MODEL/MODEL_CARD.md)"});
  Args args(argv, specs);
  if (args.help()) {
    std::cout << usage("card",
                       "Measures a model trained by `mechscope-cli train` (accuracy, induction and "
                       "previous-token heads, ablations) and writes its MODEL_CARD.md.",
                       specs);
    return 0;
  }
  auto model = load_model_from_args(args);
  const std::filesystem::path dir = model->source().path;
  nlohmann::json log;
  if (std::filesystem::exists(dir / "training.json"))
    log = nlohmann::json::parse(read_text_file(dir / "training.json"));
  const int64_t n = args.integer("examples", 300);
  const int64_t max_words = log.contains("recipe") ? log["recipe"].value("max_words", 120) : 120;
  const uint64_t seed = 4242;  // held out: training never uses it
  const ModelConfig& c = model->config();

  std::vector<std::string> names;
  if (log.contains("recipe"))
    for (auto it = log["recipe"]["tasks"].begin(); it != log["recipe"]["tasks"].end(); ++it)
      names.push_back(it.key());
  if (names.empty())
    for (const auto& t : tasks::task_names())
      if (t != "shapes_vqa") names.push_back(t);

  std::cerr << "Evaluating " << names.size() << " tasks…\n";
  tasks::TaskOptions topts;
  topts.max_words = max_words;
  std::map<std::string, std::vector<tasks::Example>> held_out;
  for (const auto& name : names)
    held_out[name] = tasks::generate(*tasks::make_task(name), seed, n, topts);
  auto accuracy_with = [&](const HookSet* hooks) {
    std::map<std::string, double> acc;
    for (const auto& [name, ex] : held_out)
      acc[name] = training::evaluate_examples(*model, ex, 64, hooks).accuracy();
    return acc;
  };
  const auto clean = accuracy_with(nullptr);

  std::ostringstream md;
  const std::string title = log.contains("recipe") ? log["recipe"].value("name", "model") : dir.filename().string();
  const std::string lm = std::to_string(c.n_layers) + "-layer, " + std::to_string(c.n_heads) +
                         "-head decoder-only transformer (Llama layout: RMSNorm, SwiGLU MLP, "
                         "rotary positions; d_model " + std::to_string(c.d_model) + ", d_head " +
                         std::to_string(c.d_head) + ", d_mlp " + std::to_string(c.d_mlp) +
                         ", context " + std::to_string(c.n_ctx) + " tokens, vocabulary " +
                         std::to_string(c.d_vocab) + " words)";
  md << "# " << title << "\n\n";
  if (const VisionEncoder* v = model->vision()) {
    const ModelConfig& vc = v->tower().config();
    md << "A vision-language model in the LLaVA layout: a " << vc.n_layers << "-layer, "
       << vc.n_heads << "-head CLIP-style vision tower (d_model " << vc.d_model << ", "
       << v->config().image_size << "×" << v->config().image_size << " images in "
       << v->config().patch_size << "×" << v->config().patch_size << " patches, "
       << v->tokens_per_image() << " image tokens), a two-layer GELU projector and a " << lm
       << " of " << model->parameter_count() << " parameters. Trained by `mechscope-cli train` on the shapes VQA task in "
       << "`probes/tasks/`; stored as a Hugging Face `LlavaForConditionalGeneration` folder with "
       << "`preprocessor_config.json` and a word-level `tokenizer.json`.\n\n";
  } else {
    md << "A " << lm << " with " << model->parameter_count()
       << " parameters, trained by `mechscope-cli train` on the task suite in `probes/tasks/`. "
       << "Stored as a Hugging Face `LlamaForCausalLM` folder with a word-level "
       << "`tokenizer.json`.\n\n";
  }
  if (log.contains("recipe")) {
    md << "## Training\n\n"
       << "- Recipe: `data/recipes/` (copied below), seed " << log["recipe"]["seed"] << ".\n"
       << "- Data: a fresh, seeded mixture of the tasks below at every step (no example repeats); "
       << "loss on answer words"
       << (log["recipe"]["tasks"].contains("induction") || log["recipe"]["tasks"].contains("mqar")
               ? " and on prompt words the task marks as determined by earlier ones (the "
                 "induction task's second copy, MQAR's earlier answers)"
               : "")
       << ", plus " << log["recipe"]["lm_loss_weight"]
       << " × next-word loss on every prompt position.\n";
    for (const auto& phase : log["recipe"].value("curriculum", nlohmann::json::array())) {
      std::string tasks;
      for (auto it = phase["tasks"].begin(); it != phase["tasks"].end(); ++it)
        tasks += (tasks.empty() ? "" : ", ") + it.key();
      md << "- Curriculum: until step " << phase["until_step"] << " the examples are " << tasks
         << " only (the copying circuit forms before the other tasks compete for the model).\n";
    }
    md
       << "- " << log["steps"] << " steps of batch " << log["recipe"]["batch_size"] << " in "
       << fixed(log["seconds"].get<double>() / 60.0, 1)
       << " minutes on this machine (2 CPU cores, LibTorch with OpenBLAS); final training loss "
       << fixed(log["final_loss"].get<double>(), 4) << ".\n\n"
       << "```json\n" << log["recipe"].dump(2) << "\n```\n\n";
  }
  md << "## Held-out accuracy\n\n" << n << " fresh examples per task (seed " << seed
     << ", never used in training); an example counts when the greedy prediction of every "
        "answer word is right (greater-than: any later year).\n\n"
     << "| task | accuracy |\n|---|---|\n";
  bool all_ok = true;
  for (const auto& [name, a] : clean) {
    md << "| " << name << " | " << pct(a) << (a < 0.95 ? " (below the 95% target)" : "") << " |\n";
    all_ok = all_ok && a >= 0.95;
  }
  md << "\n" << (all_ok ? "Every task reaches the 95% target.\n\n"
                        : "Not every task reaches the 95% target; see the table.\n\n");

  nlohmann::json card = {{"examples", n}, {"seed", seed}};
  const CardContext ctx{*model, held_out, clean, seed, accuracy_with};
  if (model->vision() != nullptr) {
    write_vlm_mechanisms(ctx, md, card);
  } else {
    write_text_mechanisms(ctx, md, card);
  }
  md << "\nRegenerate this card with `mechscope-cli card --model " << dir.string() << "`.\n";

  const std::string out = args.get("out", (dir / "MODEL_CARD.md").string());
  auto write = [](const std::filesystem::path& file, const std::string& text) {
    if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
    std::ofstream f(file);
    f << text;
    if (!f.flush()) throw Error("Cannot write " + file.string() + ".");
  };
  write(out, md.str());
  // The measured figures, for tests that recheck them.
  card["heldout_accuracy"] = clean;
  write(std::filesystem::path(out).parent_path() / "card.json", card.dump(2) + "\n");
  std::cout << md.str();
  return 0;
}

}  // namespace mechscope::cli
