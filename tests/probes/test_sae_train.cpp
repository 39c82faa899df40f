// SAE training (probes/sae_train.h) on the embedded default text model: reconstruction quality,
// unit-norm decoder rows, the spliced next-token loss, topk with dead-latent resampling, resume =
// uninterrupted, cancel leaves a checkpoint, prompts files, refusals.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/error_of.h"
#include "core/io/mapped_file.h"
#include "core/model/default_model.h"
#include "core/model/loader.h"
#include "core/model/model.h"
#include "core/sae/sae_io.h"
#include "core/util/cancel.h"
#include "core/util/error.h"
#include "probes/sae_activations.h"
#include "probes/sae_train.h"
#include "probes/tasks/task.h"
#include "tests/test_paths.h"

namespace mechscope::test {
namespace {

namespace fs = std::filesystem;

const Model& default_model() {
  static const std::unique_ptr<Model> model = load_model(default_model_path());
  return *model;
}

/// 64 latents on the residual stream entering the middle block of the five, task examples.
probes::SaeTrainOptions relu_options() {
  probes::SaeTrainOptions o;
  o.hook = "blocks.2.hook_resid_pre";
  o.task = "induction,ioi,greater_than,colored_objects";
  o.latents = 64;
  o.l1 = 0.6;
  o.lr = 3e-3;
  o.steps = 300;
  o.batch_size = 128;
  o.buffer_size = 2048;
  o.eval_prompts = 96;
  o.seed = 3;
  return o;
}

/// A short topk run (AuxK on) that refills its buffer every 4 steps and resamples dead latents
/// every 10.
probes::SaeTrainOptions resume_options() {
  probes::SaeTrainOptions o;
  o.hook = "blocks.2.hook_resid_pre";
  o.task = "ioi,induction";
  o.architecture = sae::Architecture::TopK;
  o.latents = 64;
  o.k = 2;
  o.lr = 3e-3;
  o.steps = 40;
  o.batch_size = 64;
  o.buffer_size = 256;
  o.resample_every = 10;
  o.dead_window = 3;
  o.checkpoint_every = 0;
  o.eval_prompts = 8;
  o.seed = 11;
  return o;
}

/// A fresh scratch folder.
fs::path scratch(const std::string& name) {
  const fs::path dir = scratch_path(name);
  fs::remove_all(dir);
  return dir;
}

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

/// Largest difference between two SAE folders' tensors.
double sae_diff(const fs::path& a, const fs::path& b) {
  const sae::Sae x = sae::load_sae(a), y = sae::load_sae(b);
  return std::max({max_diff(x.W_enc, y.W_enc), max_diff(x.W_dec, y.W_dec),
                   max_diff(x.b_enc, y.b_enc), max_diff(x.b_dec, y.b_dec)});
}

}  // namespace

TEST_CASE("sae_train: a relu SAE on the default model reconstructs its residual stream",
          "[sae_train]") {
  const Model& model = default_model();
  REQUIRE(model.config().n_layers == 5);
  const fs::path dir = scratch("sae_train_relu");
  const probes::SaeTrainOptions o = relu_options();
  int64_t reports = 0, evaluation_reports = 0;
  probes::SaeTrainProgress last;
  const auto r = probes::train_sae(model, o, dir, false, [&](const probes::SaeTrainProgress& p) {
    (p.evaluating ? evaluation_reports : reports) += 1;
    if (!p.evaluating) last = p;
    return true;
  });
  REQUIRE_FALSE(r.cancelled);
  CHECK(reports == o.steps);
  CHECK(evaluation_reports == 12);  // 96 held-out prompts, 8 per batch
  CHECK(last.step == o.steps);
  CHECK(last.steps == o.steps);
  CHECK(last.eta_seconds == 0);
  CHECK(r.steps_done == o.steps);
  CHECK(r.resumed_from == 0);
  const auto& m = r.metrics;
  WARN("relu, 64 latents, 300 steps: EV " << m.explained_variance << ", MSE " << m.mse << ", L0 "
       << m.l0 << ", dead " << m.dead_fraction << "; CE clean " << m.ce_loss_clean << ", spliced "
       << m.ce_loss_spliced << ", zero-ablated " << m.ce_loss_zero_ablation << ", score "
       << m.ce_loss_score << "; " << m.tokens << " tokens; " << r.seconds << " s");
  CHECK(m.explained_variance > 0.8);
  CHECK(m.l0 > 1);
  CHECK(m.l0 < 64);
  CHECK(m.dead_fraction >= 0);
  CHECK(m.dead_fraction < 0.5);
  CHECK(m.ce_loss_spliced > m.ce_loss_clean);
  CHECK(m.ce_loss_zero_ablation > m.ce_loss_spliced);
  CHECK(m.ce_loss_score > 0.9);
  CHECK(m.tokens > 1500);
  CHECK(m.scored_tokens >= 96);
  // Training-batch figures agree with the held-out ones.
  CHECK(last.explained_variance == Approx(m.explained_variance).margin(0.05));
  CHECK(last.l0 == Approx(m.l0).margin(5));

  // The SAELens folder: the SAE as trained, unit-norm decoder rows, reading raw activations.
  const sae::Sae loaded = sae::load_sae(dir);
  CHECK(loaded.cfg.hook_name == o.hook);
  CHECK(loaded.cfg.model_name == "mechscope-tiny-text");
  CHECK(loaded.cfg.extra.at("metadata").at("dataset_path") == "mechscope/tasks:" + o.task);
  CHECK(loaded.cfg.extra.at("metadata").at("context_size") == 160);
  CHECK(loaded.cfg.architecture == sae::Architecture::Standard);
  CHECK(loaded.cfg.apply_b_dec_to_input);
  CHECK(loaded.cfg.d_in == 128);
  CHECK(loaded.cfg.d_sae == 64);
  CHECK(max_diff(loaded.W_dec.norm(2, 1), at::ones({64})) < 1e-5);
  CHECK(max_diff(loaded.W_enc, r.sae->W_enc) == 0);
  CHECK(max_diff(loaded.b_dec, r.sae->b_dec) == 0);
  // Measuring the saved SAE again gives the reported figures.
  const auto again = probes::evaluate_sae(model, std::make_shared<sae::Sae>(loaded),
                                          probes::SaePrompts::from_tasks(model, o.task, o.seed)
                                              .heldout(o.eval_prompts),
                                          false);
  CHECK(again.explained_variance == Approx(m.explained_variance).epsilon(1e-4));
  CHECK(again.ce_loss_spliced == Approx(m.ce_loss_spliced).epsilon(1e-4));

  const auto log = nlohmann::json::parse(read_text_file(dir / "training.json"));
  CHECK(log.at("recipe").at("latents") == 64);
  CHECK(log.at("recipe").at("l1") == 0.6);
  CHECK(log.at("recipe").at("architecture") == "relu");
  CHECK(log.at("recipe").at("task") == o.task);
  CHECK(log.at("seed") == 3);
  CHECK(log.at("model").at("hash").get<std::string>().size() == 64);
  CHECK(log.at("model").at("name") == "mechscope-tiny-text");
  CHECK(log.at("steps") == 300);
  CHECK(log.at("tokens") == 300 * 128);
  CHECK(log.at("activation_scale").get<double>() == Approx(r.activation_scale));
  CHECK(log.at("metrics").at("explained_variance").get<double>() == Approx(m.explained_variance));
  CHECK(log.at("wall_seconds").get<double>() > 0);
  CHECK(!log.at("started").get<std::string>().empty());
  CHECK(!log.at("finished").get<std::string>().empty());
  CHECK(fs::exists(probes::sae_checkpoint_path(dir)));
  fs::remove_all(dir);
}

TEST_CASE("sae_train: topk keeps k latents and dead latents are resampled", "[sae_train]") {
  const Model& model = default_model();
  const fs::path dir = scratch("sae_train_topk");
  probes::SaeTrainOptions o = relu_options();
  o.architecture = sae::Architecture::TopK;
  o.latents = 256;
  o.k = 8;
  o.steps = 200;
  o.resample_every = 50;
  o.dead_window = 25;
  o.eval_prompts = 48;
  const auto r = probes::train_sae(model, o, dir);
  REQUIRE_FALSE(r.cancelled);
  const auto& m = r.metrics;
  int64_t resampled = 0;
  for (const auto& s : r.resamples) resampled += s.latents;
  WARN("topk, 256 latents, k 8, 200 steps: EV " << m.explained_variance << ", L0 " << m.l0
       << ", dead " << m.dead_fraction << "; CE clean " << m.ce_loss_clean << ", spliced "
       << m.ce_loss_spliced << "; " << r.resamples.size() << " resamplings of " << resampled
       << " latents; " << r.seconds << " s");
  CHECK(m.l0 <= 8.0);
  CHECK(m.l0 > 7.0);
  CHECK(m.explained_variance > 0.6);
  CHECK(!r.resamples.empty());
  CHECK(r.resamples.front().step == 50);
  CHECK(r.resamples.back().step <= 150);
  const sae::Sae loaded = sae::load_sae(dir);
  CHECK(loaded.cfg.architecture == sae::Architecture::TopK);
  CHECK(loaded.cfg.k == 8);
  CHECK(max_diff(loaded.W_dec.norm(2, 1), at::ones({256})) < 1e-5);
  const auto log = nlohmann::json::parse(read_text_file(dir / "training.json"));
  CHECK(log.at("resamples").size() == r.resamples.size());
  CHECK(log.at("k") == 8);
  CHECK(log.at("recipe").at("l1").is_null());
  fs::remove_all(dir);
}

TEST_CASE("sae_train: resuming after a cancel gives the uninterrupted run's weights",
          "[sae_train]") {
  const Model& model = default_model();
  const probes::SaeTrainOptions o = resume_options();
  const fs::path straight = scratch("sae_train_straight");
  const auto a = probes::train_sae(model, o, straight);
  REQUIRE_FALSE(a.cancelled);
  REQUIRE(!a.resamples.empty());  // the resampling's randomness is part of what must repeat

  SECTION("cancelled by the progress callback at step 20") {
    const fs::path dir = scratch("sae_train_cancel20");
    const auto b = probes::train_sae(model, o, dir, false,
                                     [](const probes::SaeTrainProgress& p) { return p.step < 20; });
    CHECK(b.cancelled);
    CHECK(b.steps_done == 20);
    CHECK(fs::exists(probes::sae_checkpoint_path(dir)));
    CHECK_FALSE(fs::exists(dir / "cfg.json"));
    CHECK_FALSE(fs::exists(dir / "training.json"));
    const auto c = probes::train_sae(model, o, dir, /*require_checkpoint=*/true);
    REQUIRE_FALSE(c.cancelled);
    CHECK(c.resumed_from == 20);
    CHECK(c.steps_done == 40);
    const double diff = sae_diff(straight, dir);
    WARN("resumed at 20 vs straight: max |Δ| = " << diff);
    CHECK(diff < 1e-6);
    CHECK(c.metrics.explained_variance == Approx(a.metrics.explained_variance).epsilon(1e-5));
    const auto log = nlohmann::json::parse(read_text_file(dir / "training.json"));
    CHECK(log.at("resumed_from_step") == 20);
    fs::remove_all(dir);
  }
  SECTION("cancelled inside a forward pass (CancelScope) while refilling the buffer") {
    const fs::path dir = scratch("sae_train_cancel_scope");
    int64_t steps_seen = 0;
    probes::SaeTrainResult b;
    {
      const CancelScope scope([&] { return steps_seen >= 7; });
      b = probes::train_sae(model, o, dir, false, [&](const probes::SaeTrainProgress& p) {
        steps_seen = p.step;
        return true;
      });
    }
    CHECK(b.cancelled);
    // Stopped in the first buffer refill after step 7, before the step that needed it.
    CHECK(b.steps_done >= 7);
    CHECK(b.steps_done < 15);
    CHECK(fs::exists(probes::sae_checkpoint_path(dir)));
    const auto c = probes::train_sae(model, o, dir);  // continues by itself: same recipe
    CHECK(c.resumed_from == b.steps_done);
    CHECK(sae_diff(straight, dir) < 1e-6);
    fs::remove_all(dir);
  }
  SECTION("a finished run continues to more steps; another recipe is refused") {
    const fs::path dir = scratch("sae_train_extend");
    probes::SaeTrainOptions first = o;
    first.steps = 20;
    probes::train_sae(model, first, dir);
    CHECK(fs::exists(dir / "cfg.json"));
    const auto c = probes::train_sae(model, o, dir);
    CHECK(c.resumed_from == 20);
    CHECK(c.steps_done == 40);
    // Not the straight run's weights: the 20-step run did not resample at step 20 (it resamples
    // only while resample_every steps remain).
    CHECK(sae_diff(straight, dir) > 1e-3);

    probes::SaeTrainOptions other = o;
    other.latents = 48;
    other.k = 3;
    const std::string msg = error_of([&] { probes::train_sae(model, other, dir); });
    CHECK_THAT(msg, Catch::Contains("belongs to a different recipe"));
    CHECK_THAT(msg, Catch::Contains("latents 64 there, 48 now"));
    CHECK_THAT(msg, Catch::Contains("k 2 there, 3 now"));
    CHECK_THAT(msg, Catch::Contains(probes::sae_checkpoint_path(dir).string()));
    fs::remove_all(dir);
  }
  fs::remove_all(straight);
}

TEST_CASE("sae_train: prompts files, held-out lines and refusals", "[sae_train]") {
  const Model& model = default_model();
  const fs::path dir = scratch("sae_train_file");
  fs::create_directories(dir);
  // 30 induction prompts, one per line (words joined by spaces: the model's word-level tokenizer).
  const fs::path file = dir / "prompts.txt";
  {
    std::ofstream out(file);
    for (const auto& ex : tasks::generate(*tasks::make_task("induction"), 5, 30))
      out << probes::task_prompt_text(model, ex.prompt) << "\n\n";
  }
  const auto prompts = probes::SaePrompts::from_file(file, 1);
  CHECK(prompts.describe() == file.string() + " (30 lines, 3 held out)");
  CHECK(prompts.heldout(10).size() == 3);
  CHECK(prompts.heldout(10)[0].prompt.empty());

  probes::SaeTrainOptions o = resume_options();
  o.task.clear();
  o.prompts = file;
  o.steps = 12;
  const auto r = probes::train_sae(model, o, dir / "sae");
  REQUIRE_FALSE(r.cancelled);
  CHECK(r.metrics.prompts == 3);
  CHECK(r.metrics.scored_tokens > 30);  // every next token of the held-out lines
  const auto log = nlohmann::json::parse(read_text_file(dir / "sae" / "training.json"));
  CHECK(log.at("heldout_separate") == true);
  CHECK(log.at("recipe").at("prompts") == file.string());

  SECTION("refusals name the problem") {
    probes::SaeTrainOptions bad = o;
    bad.prompts = dir / "missing.txt";
    CHECK(error_of([&] { probes::train_sae(model, bad, dir / "x"); }) ==
          "The prompts file " + (dir / "missing.txt").string() + " does not exist.");
    std::ofstream(dir / "empty.txt") << "\n   \n";
    bad.prompts = dir / "empty.txt";
    CHECK(error_of([&] { probes::train_sae(model, bad, dir / "x"); }) ==
          "The prompts file " + (dir / "empty.txt").string() +
              " holds no prompts (one prompt per line).");
    bad = o;
    bad.task = "ioi";
    CHECK(error_of([&] { probes::train_sae(model, bad, dir / "x"); }) ==
          "Give --prompts FILE or --task T, not both.");
    bad = o;
    bad.hook = "blocks.7.hook_resid_pre";
    const std::string msg = error_of([&] { probes::train_sae(model, bad, dir / "x"); });
    CHECK_THAT(msg, Catch::Contains("The hook 'blocks.7.hook_resid_pre' is not a hook point"));
    CHECK_THAT(msg, Catch::Contains("blocks.{0-4}.hook_resid_pre"));
    CHECK_THAT(msg, Catch::Contains("blocks.{0-4}.attn.hook_z"));
    bad.hook = "blocks.1.attn.hook_pattern";
    CHECK_THAT(error_of([&] { probes::train_sae(model, bad, dir / "x"); }),
               Catch::Contains("holds no vector per position"));
    bad = o;
    bad.prompts.clear();
    bad.task = "shapes_vqa";
    CHECK_THAT(error_of([&] { probes::train_sae(model, bad, dir / "x"); }),
               Catch::Contains("shapes_vqa needs images"));
    bad.task = "nosuchtask";
    CHECK_THAT(error_of([&] { probes::train_sae(model, bad, dir / "x"); }),
               Catch::Contains("nosuchtask"));
    bad = o;
    bad.k = 65;
    CHECK(error_of([&] { probes::train_sae(model, bad, dir / "x"); }) ==
          "--k must be between 1 and --latents (64), got 65.");
    bad = o;
    bad.latents = int64_t(1) << 36;  // terabytes: refused before anything is allocated
    CHECK_THAT(error_of([&] { probes::train_sae(model, bad, dir / "huge"); }),
               Catch::Contains("needs") && Catch::Contains("refusing to start"));
    CHECK_FALSE(fs::exists(dir / "huge"));
    CHECK_THAT(error_of([&] { probes::train_sae(model, o, dir / "fresh", true); }),
               Catch::Contains("There is no checkpoint to resume in"));
    fs::create_directories(dir / "garbled");
    std::ofstream(probes::sae_checkpoint_path(dir / "garbled")) << "not a checkpoint";
    CHECK_THAT(error_of([&] { probes::train_sae(model, o, dir / "garbled"); }),
               Catch::Contains(probes::sae_checkpoint_path(dir / "garbled").string()));
    CHECK_FALSE(fs::exists(dir / "x" / "checkpoint.safetensors"));
  }
  CHECK(probes::sae_hook_names(model).front() == "hook_embed");
  CHECK(probes::sae_hook_width(model, "blocks.0.attn.hook_z") == 128);
  CHECK(probes::sae_hook_width(model, "blocks.0.mlp.hook_post") == 384);
  fs::remove_all(dir);
}

}  // namespace mechscope::test
