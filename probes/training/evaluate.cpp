#include "probes/training/evaluate.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <set>

#include "core/model/model.h"
#include "core/util/error.h"
#include "probes/training/batch.h"

namespace mechscope::training {

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
    TokenBatch batch = make_batch(chunk, words);
    at::Tensor pred = model.run(batch.inputs, batch.mask, hooks).logits.argmax(-1).cpu();  // [batch, pos]
    for (size_t b = 0; b < chunk.size(); ++b) {
      const auto& ex = chunk[b];
      const int64_t first = batch.prompt_lengths[b] - 1;  // position predicting answer word 0
      bool ok = true;
      std::set<int64_t> valid;
      if (ex.meta.contains("valid_answers"))
        for (const auto& v : words.ids(ex.meta["valid_answers"].get<std::vector<std::string>>()))
          valid.insert(v);
      const auto answer = words.ids(ex.answer);
      for (size_t i = 0; i < answer.size(); ++i) {
        const int64_t p = pred[b][first + int64_t(i)].item<int64_t>();
        ok = ok && (p == answer[i] || (i == 0 && valid.count(p) != 0));
      }
      acc.correct += ok;
      acc.total += 1;
    }
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
