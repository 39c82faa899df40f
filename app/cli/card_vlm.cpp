// The model card's section for vision-language models: does the answer come from the image, and
// in which language-model layers does the text read it?
#include <iostream>
#include <set>

#include "app/cli/card_sections.h"
#include "core/model/model.h"
#include "core/model/vision.h"
#include "probes/knockout.h"
#include "probes/training/evaluate.h"

namespace mechscope::cli {
using namespace probes;  // head scores, ablation, knockout

void write_vlm_mechanisms(const CardContext& ctx, std::ostream& md, nlohmann::json& card) {
  const auto it = ctx.held_out.find("shapes_vqa");
  if (it == ctx.held_out.end()) return;
  const auto& examples = it->second;
  const Model& model = ctx.model;
  const int64_t n_image = model.vision()->tokens_per_image();
  // Every shapes VQA prompt starts with its image: BOS, then the image tokens, then the question.
  const PositionRange image{1, 1 + n_image}, text{1 + n_image, int64_t(1) << 40};

  std::cerr << "Measuring the image's route…\n";
  std::map<std::string, std::vector<tasks::Example>> by_type;
  for (const auto& ex : examples) by_type[ex.meta.value("question_type", "?")].push_back(ex);
  auto accuracy = [&](const std::vector<tasks::Example>& ex, const HookSet* hooks) {
    return training::evaluate_examples(model, ex, 64, hooks).accuracy();
  };
  HookSet no_image;
  add_image_mean_ablation(no_image);

  md << "## Known mechanisms (measured with mechscope's own probes)\n\n"
     << "Accuracy by question type, clean and with every image's features replaced by their mean "
        "over the batch (`probes/knockout.h`, add_image_mean_ablation: the language model sees an "
        "average image):\n\n"
     << "| question type | examples | clean | image mean-ablated |\n|---|---|---|---|\n";
  nlohmann::json types;
  for (const auto& [type, ex] : by_type) {
    const double clean = accuracy(ex, nullptr), ablated = accuracy(ex, &no_image);
    md << "| " << type << " | " << ex.size() << " | " << pct(clean) << " | " << pct(ablated)
       << " |\n";
    types[type] = {{"examples", ex.size()}, {"clean", clean}, {"image_ablated", ablated}};
  }
  const double all_ablated = accuracy(examples, &no_image);
  md << "| all | " << examples.size() << " | " << pct(ctx.clean.at("shapes_vqa")) << " | "
     << pct(all_ablated) << " |\n\n";

  const int64_t L = model.config().n_layers;
  md << "Attention knockout (Geva et al. 2023; `probes/knockout.h`): in the named language-model "
        "layers, text positions may not attend to the "
     << n_image
     << " image positions (those attention weights removed, rows renormalised). The layers "
        "whose knockout costs accuracy are where the question reads the image.\n\n"
     << "| layers knocked out | accuracy |\n|---|---|\n";
  nlohmann::json knockout;
  std::vector<int64_t> all_layers;
  for (int64_t l = 0; l < L; ++l) {
    all_layers.push_back(l);
    HookSet hooks;
    add_attention_knockout(hooks, {l}, text, image);
    const double a = accuracy(examples, &hooks);
    md << "| L" << l << " | " << pct(a) << " |\n";
    knockout["L" + std::to_string(l)] = a;
  }
  HookSet every;
  add_attention_knockout(every, all_layers, text, image);
  const double a_all = accuracy(examples, &every);
  md << "| all " << L << " | " << pct(a_all) << " |\n";
  knockout["all"] = a_all;
  card["accuracy_by_question_type"] = types;
  card["accuracy_image_mean_ablated"] = all_ablated;
  card["accuracy_text_to_image_knockout"] = knockout;
}

}  // namespace mechscope::cli
