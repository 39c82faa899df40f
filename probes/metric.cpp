#include "probes/metric.h"

#include <ATen/ATen.h>

#include "core/util/error.h"

namespace mechscope::probes {

OptionSpec metric_option() {
  OptionSpec s;
  s.name = "metric";
  s.type = OptionSpec::Type::String;
  s.default_value = "logit_diff";
  s.choices = {"logit_diff", "logprob", "prob", "normalized"};
  s.help =
      "logit_diff: logit[answer] − logit[wrong] at the last position (logit[answer] without a "
      "wrong answer); logprob / prob of the answer; normalized: (logit_diff − corrupted) / "
      "(clean − corrupted)";
  return s;
}

Metric::Metric(const std::string& kind, const ProbeInputs& inputs)
    : kind_(kind), wrong_(inputs.wrong_id) {
  if (kind != "logit_diff" && kind != "logprob" && kind != "prob" && kind != "normalized")
    throw Error("Unknown metric '" + kind + "'; choose logit_diff, logprob, prob or normalized.");
  if (!inputs.answer_id) throw Error("The metric needs the answer token (--answer or --answer-id).");
  answer_ = *inputs.answer_id;
}

at::Tensor Metric::raw(const at::Tensor& last_logits) const {
  const at::Tensor l = last_logits.to(at::kFloat);  // [batch, d_vocab]
  if (kind_ == "logprob") return at::log_softmax(l, -1).select(-1, answer_);
  if (kind_ == "prob") return at::softmax(l, -1).select(-1, answer_);
  at::Tensor v = l.select(-1, answer_);
  return wrong_ ? v - l.select(-1, *wrong_) : v;
}

at::Tensor Metric::operator()(const at::Tensor& last_logits) const {
  at::Tensor v = raw(last_logits);
  if (kind_ != "normalized") return v;
  return (v - corrupted_raw_) / (clean_raw_ - corrupted_raw_);
}

void Metric::set_baselines(double clean_raw, double corrupted_raw) {
  clean_raw_ = clean_raw;
  corrupted_raw_ = corrupted_raw;
  if (kind_ == "normalized" && clean_raw == corrupted_raw)
    throw Error("The clean and the corrupted prompt give the same logit difference (" +
                std::to_string(clean_raw) + "): there is nothing to normalise by.");
}

double Metric::clean() const { return kind_ == "normalized" ? 1.0 : clean_raw_; }
double Metric::corrupted() const { return kind_ == "normalized" ? 0.0 : corrupted_raw_; }

nlohmann::json Metric::meta() const {
  nlohmann::json j = {{"metric", kind_},
                      {"clean_metric", clean()},
                      {"corrupted_metric", corrupted()},
                      {"answer_id", answer_}};
  if (wrong_) j["wrong_id"] = *wrong_;
  if (kind_ == "normalized") {
    j["clean_logit_diff"] = clean_raw_;
    j["corrupted_logit_diff"] = corrupted_raw_;
  }
  return j;
}

at::Tensor last_position(const at::Tensor& logits) { return logits.select(1, -1); }

}  // namespace mechscope::probes
