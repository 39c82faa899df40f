#include "probes/training/batch.h"

#include <ATen/ATen.h>

#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

namespace mechscope::training {

WordIds::WordIds(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {
  if (!tokenizer.bos_id()) throw Error("The tokenizer has no BOS token; training needs one.");
  bos_ = *tokenizer.bos_id();
}

std::vector<int64_t> WordIds::ids(const std::vector<std::string>& words) const {
  std::vector<int64_t> out;
  out.reserve(words.size());
  for (const auto& w : words) {
    auto id = tokenizer_.token_to_id(w);
    if (!id) throw Error("The word '" + w + "' is not in the tokenizer's vocabulary.");
    out.push_back(*id);
  }
  return out;
}

TokenBatch make_batch(const std::vector<tasks::Example>& examples, const WordIds& words,
                      const std::function<std::vector<int64_t>(std::vector<int64_t>)>& expand) {
  std::vector<std::vector<int64_t>> seqs;
  std::vector<int64_t> prompt_lengths, predictable_from;
  std::vector<std::vector<int64_t>> predictable_words;  // meta "predictable" (+1 for BOS)
  int64_t longest = 0;
  for (const auto& ex : examples) {
    std::vector<int64_t> s = {words.bos()};
    auto p = words.ids(ex.prompt);
    s.insert(s.end(), p.begin(), p.end());
    if (expand) s = expand(std::move(s));
    prompt_lengths.push_back(int64_t(s.size()));
    // Word w is ids[w + 1]; without expansion the index carries over (BOS shifts it by one).
    predictable_from.push_back(ex.meta.contains("predictable_from") && !expand
                                   ? ex.meta["predictable_from"].get<int64_t>() + 1
                                   : prompt_lengths.back());
    predictable_words.emplace_back();
    if (ex.meta.contains("predictable") && !expand)
      for (const auto& w : ex.meta["predictable"]) predictable_words.back().push_back(w.get<int64_t>() + 1);
    auto a = words.ids(ex.answer);
    s.insert(s.end(), a.begin(), a.end());
    longest = std::max<int64_t>(longest, int64_t(s.size()) - 1);
    seqs.push_back(std::move(s));
  }
  const int64_t B = int64_t(examples.size());
  std::vector<int64_t> in(B * longest, 0), tg(B * longest, 0);
  std::vector<float> mask(B * longest, 0.f), answer(B * longest, 0.f);
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[b];
    for (int64_t t = 0; t + 1 < int64_t(s.size()); ++t) {
      in[b * longest + t] = s[t];
      tg[b * longest + t] = s[t + 1];
      mask[b * longest + t] = 1.f;
      // Positions from the last prompt word on predict answer words.
      if (t + 1 >= predictable_from[b]) answer[b * longest + t] = 1.f;
    }
    for (int64_t w : predictable_words[b])
      if (w >= 1 && w < int64_t(s.size())) answer[b * longest + w - 1] = 1.f;
  }
  TokenBatch out;
  out.inputs = at::tensor(in, at::kLong).view({B, longest});
  out.targets = at::tensor(tg, at::kLong).view({B, longest});
  out.mask = at::tensor(mask, at::kFloat).view({B, longest});
  out.answer_weight = at::tensor(answer, at::kFloat).view({B, longest});
  out.prompt_lengths = std::move(prompt_lengths);
  return out;
}

at::Tensor pixel_batch(const std::vector<tasks::Example>& examples, const std::array<float, 3>& mean,
                       const std::array<float, 3>& std) {
  std::vector<at::Tensor> images;
  for (const auto& ex : examples) {
    if (!ex.image) throw Error("Example of task '" + ex.task + "' has no image.");
    const auto& im = *ex.image;
    images.push_back(at::tensor(im.pixels, at::kFloat).view({3, im.height, im.width}));
  }
  at::Tensor x = at::stack(images);  // [batch, 3, S, S]
  at::Tensor m = at::tensor(std::vector<float>(mean.begin(), mean.end())).view({1, 3, 1, 1});
  at::Tensor s = at::tensor(std::vector<float>(std.begin(), std.end())).view({1, 3, 1, 1});
  return (x - m) / s;
}

}  // namespace mechscope::training
