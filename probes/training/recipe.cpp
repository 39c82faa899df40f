#include "probes/training/recipe.h"

#include <cmath>

#include "core/io/mapped_file.h"
#include "core/util/error.h"
#include "probes/tasks/task.h"

namespace mechscope::training {

ModelConfig Recipe::model_config(int64_t d_vocab) const {
  return llama_layout_config(d_model, n_layers, n_heads, n_kv_heads, d_mlp, d_vocab, n_ctx, 1e-5,
                             rope_theta, tied_embeddings);
}

nlohmann::json Recipe::to_json() const {
  return {{"name", name},
          {"seed", seed},
          {"model",
           {{"d_model", d_model}, {"n_layers", n_layers}, {"n_heads", n_heads},
            {"n_kv_heads", n_kv_heads}, {"d_mlp", d_mlp}, {"n_ctx", n_ctx},
            {"rope_theta", rope_theta}, {"tied_embeddings", tied_embeddings}}},
          {"vision", vision ? nlohmann::json{{"image_size", vision->image_size},
                                             {"patch_size", vision->patch_size},
                                             {"d_model", vision->d_model},
                                             {"n_layers", vision->n_layers},
                                             {"n_heads", vision->n_heads},
                                             {"d_mlp", vision->d_mlp},
                                             {"feature_layer", vision->feature_layer},
                                             {"keep_class_token", vision->keep_class_token}}
                            : nlohmann::json()},
          {"tasks", tasks},
          {"curriculum",
           [&] {
             nlohmann::json c = nlohmann::json::array();
             for (const auto& p : curriculum) c.push_back({{"until_step", p.until_step}, {"tasks", p.tasks}});
             return c;
           }()},
          {"max_words", max_words},
          {"lm_loss_weight", lm_loss_weight},
          {"batch_size", batch_size},
          {"steps", steps},
          {"lr", lr},
          {"min_lr_ratio", min_lr_ratio},
          {"weight_decay", weight_decay},
          {"betas", {beta1, beta2}},
          {"warmup_steps", warmup_steps},
          {"grad_clip", grad_clip},
          {"micro_batches", micro_batches},
          {"checkpoint_every", checkpoint_every},
          {"eval_examples", eval_examples}};
}

const std::map<std::string, double>& Recipe::tasks_at(int64_t step) const {
  for (const auto& p : curriculum)
    if (step < p.until_step) return p.tasks;
  return tasks;
}

double Recipe::lr_at(int64_t step) const {
  if (step < warmup_steps) return lr * double(step + 1) / double(warmup_steps);
  const double progress =
      std::min(1.0, double(step - warmup_steps) / double(std::max<int64_t>(1, steps - warmup_steps)));
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine);
}

Recipe parse_recipe(const nlohmann::json& j, const std::string& source) {
  Recipe r;
  auto fail = [&](const std::string& what) {
    throw Error("Invalid training recipe " + source + ": " + what + ".");
  };
  if (!j.is_object()) fail("it is not a JSON object");
  try {
    r.name = j.value("name", r.name);
    r.seed = j.value("seed", r.seed);
    if (j.contains("model")) {
      const auto& m = j["model"];
      r.d_model = m.value("d_model", r.d_model);
      r.n_layers = m.value("n_layers", r.n_layers);
      r.n_heads = m.value("n_heads", r.n_heads);
      r.n_kv_heads = m.value("n_kv_heads", r.n_heads);
      r.d_mlp = m.value("d_mlp", r.d_mlp);
      r.n_ctx = m.value("n_ctx", r.n_ctx);
      r.rope_theta = m.value("rope_theta", r.rope_theta);
      r.tied_embeddings = m.value("tied_embeddings", r.tied_embeddings);
    }
    if (j.contains("vision") && !j["vision"].is_null()) {  // to_json writes null
      const auto& v = j["vision"];
      VisionRecipe vr;
      vr.image_size = v.value("image_size", vr.image_size);
      vr.patch_size = v.value("patch_size", vr.patch_size);
      vr.d_model = v.value("d_model", vr.d_model);
      vr.n_layers = v.value("n_layers", vr.n_layers);
      vr.n_heads = v.value("n_heads", vr.n_heads);
      vr.d_mlp = v.value("d_mlp", vr.d_mlp);
      vr.feature_layer = v.value("feature_layer", vr.feature_layer);
      vr.keep_class_token = v.value("keep_class_token", vr.keep_class_token);
      r.vision = vr;
    }
    if (!j.contains("tasks") || !j["tasks"].is_object() || j["tasks"].empty())
      fail("'tasks' must map task names to mixture weights");
    for (auto it = j["tasks"].begin(); it != j["tasks"].end(); ++it)
      r.tasks[it.key()] = it.value().get<double>();
    if (j.contains("curriculum")) {
      if (!j["curriculum"].is_array()) fail("'curriculum' must be a list of phases");
      for (const auto& ph : j["curriculum"]) {
        Recipe::Phase phase;
        phase.until_step = ph.at("until_step").get<int64_t>();
        for (auto it = ph.at("tasks").begin(); it != ph.at("tasks").end(); ++it)
          phase.tasks[it.key()] = it.value().get<double>();
        if (phase.tasks.empty()) fail("every curriculum phase needs tasks");
        if (!r.curriculum.empty() && phase.until_step <= r.curriculum.back().until_step)
          fail("curriculum phases must end at increasing steps");
        r.curriculum.push_back(std::move(phase));
      }
    }
    r.max_words = j.value("max_words", r.max_words);
    r.lm_loss_weight = j.value("lm_loss_weight", r.lm_loss_weight);
    r.batch_size = j.value("batch_size", r.batch_size);
    r.steps = j.value("steps", r.steps);
    r.lr = j.value("lr", r.lr);
    r.min_lr_ratio = j.value("min_lr_ratio", r.min_lr_ratio);
    r.weight_decay = j.value("weight_decay", r.weight_decay);
    if (j.contains("betas")) {
      r.beta1 = j["betas"].at(0).get<double>();
      r.beta2 = j["betas"].at(1).get<double>();
    }
    r.warmup_steps = j.value("warmup_steps", r.warmup_steps);
    r.grad_clip = j.value("grad_clip", r.grad_clip);
    r.micro_batches = j.value("micro_batches", r.micro_batches);
    r.checkpoint_every = j.value("checkpoint_every", r.checkpoint_every);
    r.eval_examples = j.value("eval_examples", r.eval_examples);
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("a field has the wrong type (") + e.what() + ")");
  }
  const auto known = tasks::task_names();
  std::vector<std::pair<std::string, double>> all(r.tasks.begin(), r.tasks.end());
  for (const auto& ph : r.curriculum) all.insert(all.end(), ph.tasks.begin(), ph.tasks.end());
  for (const auto& [name, w] : all) {
    if (std::find(known.begin(), known.end(), name) == known.end())
      fail("unknown task '" + name + "'");
    if ((name == "shapes_vqa") != r.vision.has_value())
      fail(r.vision ? "a vision-language recipe trains on shapes_vqa only, not '" + name + "'"
                    : "task '" + name + "' needs images: add a 'vision' section");
    if (!(w > 0)) fail("the weight of task '" + name + "' must be positive");
  }
  if (r.n_heads <= 0 || r.d_model % r.n_heads != 0) fail("d_model must be divisible by n_heads");
  if (r.steps <= 0 || r.batch_size <= 0) fail("steps and batch_size must be positive");
  if (r.micro_batches <= 0 || r.micro_batches > r.batch_size)
    fail("micro_batches must be between 1 and batch_size");
  if (r.max_words + 8 > r.n_ctx) fail("n_ctx must exceed max_words by the answer length");
  if (!(r.lr > 0)) fail("lr must be positive");
  r.model_config(1).validate(source);
  if (r.vision) {
    const auto& v = *r.vision;
    if (v.patch_size <= 0 || v.image_size % v.patch_size != 0)
      fail("vision.image_size must be a multiple of vision.patch_size");
    if (v.n_heads <= 0 || v.d_model % v.n_heads != 0)
      fail("vision.d_model must be divisible by vision.n_heads");
    if (v.feature_layer < -v.n_layers - 1 || v.feature_layer > v.n_layers)
      fail("vision.feature_layer is outside the tower");
  }
  return r;
}

Recipe load_recipe(const std::filesystem::path& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("Invalid training recipe " + path.string() + ": " + e.what() + ".");
  }
  return parse_recipe(j, path.string());
}

}  // namespace mechscope::training
