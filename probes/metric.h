#pragma once
/// The metric of the patching probes (option `metric`): a number per run read from the logits at
/// the last position.
///   logit_diff  logit[answer] − logit[wrong] (logit[answer] without a wrong answer; default)
///   logprob     log P(answer)
///   prob        P(answer)
///   normalized  (logit_diff − corrupted) / (clean − corrupted): 1 = clean, 0 = corrupted
#include <ATen/Tensor.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "probes/probe.h"

namespace mechscope::probes {

/// The `metric` option every patching probe declares.
OptionSpec metric_option();

class Metric {
 public:
  /// Throws mechscope::Error when `kind` is unknown or the inputs lack an answer id.
  Metric(const std::string& kind, const ProbeInputs& inputs);

  /// The metric before normalisation of last-position logits [batch, d_vocab] → [batch]
  /// (differentiable): logit_diff for `normalized`.
  at::Tensor raw(const at::Tensor& last_logits) const;
  /// The metric, normalised with the baselines when kind is `normalized`: [batch].
  at::Tensor operator()(const at::Tensor& last_logits) const;
  /// Records the raw metric of the clean and the corrupted run; throws for `normalized` when
  /// they are equal (nothing to normalise by).
  void set_baselines(double clean_raw, double corrupted_raw);

  /// The metric of the clean / corrupted run in this metric's units (1 / 0 when normalised).
  double clean() const;
  double corrupted() const;
  double clean_raw() const { return clean_raw_; }
  double corrupted_raw() const { return corrupted_raw_; }
  const std::string& kind() const { return kind_; }
  /// {"metric", "clean_metric", "corrupted_metric", "answer_id", "wrong_id"?, and for
  /// `normalized` the raw "clean_logit_diff" and "corrupted_logit_diff"}.
  nlohmann::json meta() const;

 private:
  std::string kind_;
  int64_t answer_ = 0;
  std::optional<int64_t> wrong_;
  double clean_raw_ = 0, corrupted_raw_ = 0;
};

/// Last-position logits [batch, d_vocab] of a forward pass's logits [batch, pos, d_vocab].
at::Tensor last_position(const at::Tensor& logits);

}  // namespace mechscope::probes
