// information_flow (Zhang et al. 2025, cross-modal information flow in vision-language models):
// the attention-knockout curves Image→Question, Image→Last, Question→Last and Last→Last at once,
// and the relevance of each image region to the text: one region's patches blocked from the
// question and last positions at a time.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

#include "core/model/model.h"
#include "core/model/vision.h"
#include "core/util/error.h"
#include "probes/builtin.h"
#include "probes/knockout.h"
#include "probes/knockout_prompts.h"
#include "probes/result_meta.h"
#include "probes/tensors.h"

namespace mechscope::probes {

namespace {

struct Flow {
  const char* name;
  const char* from;
  const char* to;
};
const Flow kFlows[] = {{"Image→Question", "image", "question"},
                       {"Image→Last", "image", "last"},
                       {"Question→Last", "question", "last"},
                       {"Last→Last", "last", "last"}};

/// An 8-bit image as floats [height, width, channel] in [0, 1] (what views draw).
at::Tensor image_array(const RgbImage& im) {
  return at::from_blob(const_cast<uint8_t*>(im.rgb.data()), {im.height, im.width, 3}, at::kByte)
             .to(at::kFloat) / 255.0;
}

Result run(const Model& model, const ProbeInputs& in, const Options& options,
           const Progress& progress) {
  if (!model.vision())
    throw Error("information_flow needs a vision-language model; " + model.source().path +
                " reads text only (use attention_knockout).");
  c10::InferenceMode guard;
  const int64_t L = model.config().n_layers;
  const int64_t window = options.integer("window");
  const at::Tensor windows = window_table(L, window);  // [centre, layer]
  const KnockoutPrompts prompts = knockout_prompts(model, in, options);
  const auto& vc = model.vision()->config();
  const int64_t side = vc.image_size / vc.patch_size, skip = vc.keep_class_token ? 1 : 0;
  const int64_t region = std::min<int64_t>(options.integer("region"), side);
  const int64_t per_side = (side + region - 1) / region, R = per_side * per_side;

  std::vector<at::Tensor> flow_changes, patch_changes;
  const size_t n = prompts.items.size();
  for (size_t i = 0; i < n; ++i) {
    const KnockoutPrompt& p = prompts.items[i];
    const int64_t T = int64_t(p.tokens.size());
    if (!p.roles.count("image") || !p.roles.count("question"))
      throw Error("The prompt needs an image and question text before its last token.");
    // Experiments: the four flows × layers, then each region × layers.
    std::vector<at::Tensor> masks;
    for (const Flow& f : kFlows)
      masks.push_back(edge_mask(T, p.roles.at(f.from), p.roles.at(f.to)));
    std::vector<int64_t> readers = p.roles.at("question");
    readers.push_back(T - 1);
    const int64_t first_patch = p.roles.at("image").front() + skip;
    for (int64_t ry = 0; ry < per_side; ++ry)
      for (int64_t rx = 0; rx < per_side; ++rx) {
        std::vector<int64_t> patches;
        for (int64_t y = ry * region; y < std::min(side, (ry + 1) * region); ++y)
          for (int64_t x = rx * region; x < std::min(side, (rx + 1) * region); ++x)
            patches.push_back(first_patch + y * side + x);
        masks.push_back(edge_mask(T, patches, readers));
      }
    const int64_t M = int64_t(masks.size());
    const at::Tensor blocked = at::stack(masks).repeat_interleave(L, 0);  // [M L, T, T]
    const at::Tensor layers = windows.repeat({M, 1});                    // [M L, L]
    const at::Tensor pb = knockout_probabilities(
        model, p.tokens, p.pixels, p.answer, blocked, layers,
        [&](double x) { report(progress, (double(i) + x) / double(n)); });
    const at::Tensor change = ((pb - p.p_clean) / p.p_clean).view({M, L});
    flow_changes.push_back(change.slice(0, 0, 4));
    patch_changes.push_back(change.slice(0, 4, M));  // [region, layer]
  }
  // Each patch takes its region's value: [layer, patch].
  const at::Tensor by_region = at::stack(patch_changes).mean(0).t();  // [layer, region]
  at::Tensor index = at::empty({side * side}, at::kLong);
  for (int64_t y = 0; y < side; ++y)
    for (int64_t x = 0; x < side; ++x) index[y * side + x] = (y / region) * per_side + x / region;
  const at::Tensor relevance = by_region.index_select(1, index);

  std::vector<std::string> flow_names, patch_labels;
  for (const Flow& f : kFlows) flow_names.push_back(f.name);
  for (int64_t y = 0; y < side; ++y)
    for (int64_t x = 0; x < side; ++x)
      patch_labels.push_back("r" + std::to_string(y) + "c" + std::to_string(x));
  const Axis layer{"layer", index_labels("L", L)};
  Result r;
  r.title = prompts.from_task ? "Information flow — " + options.string("task") + " (" +
                                    std::to_string(n) + " examples)"
                              : result_title("Information flow", in.prompt);
  r.arrays["relative_change"] = to_array(at::stack(flow_changes).mean(0), {{"flow", flow_names}, layer});
  r.arrays["patch_relevance"] = to_array(relevance, {layer, {"patch", patch_labels}});
  const RgbImage& im = prompts.items.front().image;
  if (!im.empty())
    r.arrays["image"] = to_array(image_array(im), {{"y", {}}, {"x", {}}, {"channel", {"R", "G", "B"}}});
  r.meta = prompts.meta;
  r.meta["window"] = window;
  r.meta["patch_grid"] = side;
  r.meta["region"] = region;
  return r;
}

}  // namespace

std::shared_ptr<const Probe> information_flow_probe() {
  ProbeInfo info;
  info.name = "information_flow";
  info.title = "Cross-modal information flow";
  info.description =
      "Zhang et al.'s four attention-knockout curves of a vision-language model at once "
      "(Image→Question, Image→Last, Question→Last, Last→Last), and each image region's "
      "relevance: its patches blocked from the question and last positions, layer by layer.";
  info.inputs = knockout_inputs();
  info.options = knockout_options();
  info.options.push_back({"region", OptionSpec::Type::Integer, 1, {}, 1.0, 1024.0,
                          "side of the square image regions knocked out together, in patches"});
  info.arrays = {
      {"relative_change", {"flow", "layer"},
       "(p_blocked − p_clean) / p_clean for each flow with the window centred on each layer"},
      {"patch_relevance", {"layer", "patch"},
       "the same with one region's patches blocked from the question and last positions"},
      {"image", {"y", "x", "channel"}, "the (first) image, RGB in [0, 1], for drawing"}};
  return std::make_shared<FunctionProbe>(std::move(info), run);
}

}  // namespace mechscope::probes
