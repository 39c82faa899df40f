#include "probes/training/evaluate.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <set>

#include "core/model/model.h"
#include "core/model/vision.h"
#include "core/util/error.h"
#include "probes/training/batch.h"

namespace mechscope::training {
namespace {

/// Counts the examples whose every answer word is the argmax (greater-than: any valid year).
void score(const std::vector<tasks::Example>& chunk, const TokenBatch& batch,
           const at::Tensor& pred, const WordIds& words, TaskAccuracy& acc) {
  const at::Tensor pred_long = pred.to(at::kLong).contiguous();  // [batch, pos]
  const auto p_of = pred_long.accessor<int64_t, 2>();
  for (size_t b = 0; b < chunk.size(); ++b) {
    const auto& ex = chunk[b];
    const int64_t first = batch.prompt_lengths[b] - 1;  // position predicting answer word 0
    std::set<int64_t> valid;
    if (ex.meta.contains("valid_answers"))
      for (const auto& v : words.ids(ex.meta["valid_answers"].get<std::vector<std::string>>()))
        valid.insert(v);
    const auto answer = words.ids(ex.answer);
    bool ok = true;
    for (size_t i = 0; i < answer.size(); ++i) {
      const int64_t p = p_of[b][first + int64_t(i)];
      ok = ok && (p == answer[i] || (i == 0 && valid.count(p) != 0));
    }
    acc.correct += ok;
    acc.total += 1;
  }
}

}  // namespace

TaskAccuracy evaluate_examples(const Model& model, const std::vector<tasks::Example>& examples,
                               int64_t batch_size, const HookSet* hooks) {
  if (model.tokenizer() == nullptr) throw Error("Evaluating tasks needs the model's tokenizer.");
  c10::InferenceMode guard;
  WordIds words(*model.tokenizer());
  TaskAccuracy acc;
  for (size_t start = 0; start < examples.size(); start += batch_size) {
    std::vector<tasks::Example> chunk(
        examples.begin() + start,
        examples.begin() + std::min(examples.size(), start + size_t(batch_size)));
    const bool images = chunk.front().image.has_value();
    if (images && model.vision() == nullptr)
      throw Error("Task '" + chunk.front().task + "' needs a vision-language model.");
    TokenBatch batch =
        images ? make_batch(chunk, words,
                            [&](std::vector<int64_t> ids) { return model.expand_image_tokens(ids); })
               : make_batch(chunk, words);
    ForwardOutput out;
    if (images) {
      const auto& pre = model.vision()->preprocess();
      out = model.run_multimodal(batch.inputs, pixel_batch(chunk, pre.mean, pre.std), batch.mask,
                                 hooks);
    } else {
      out = model.run(batch.inputs, batch.mask, hooks);
    }
    score(chunk, batch, out.logits.argmax(-1).cpu(), words, acc);
  }
  return acc;
}

std::map<std::string, TaskAccuracy> evaluate_tasks(const Model& model,
                                                   const std::vector<std::string>& task_names,
                                                   int64_t n, uint64_t seed, int64_t max_words) {
  std::map<std::string, TaskAccuracy> out;
  tasks::TaskOptions opts;
  opts.max_words = max_words;
  for (const auto& name : task_names) {
    auto task = tasks::make_task(name);
    out[name] = evaluate_examples(model, tasks::generate(*task, seed, n, opts));
  }
  return out;
}

}  // namespace mechscope::training
