// The causal probes against TransformerLens / PyTorch autograd goldens
// (tests/reference/make_probe_goldens.py, tests/golden/probes/README.md) on tiny GPT-2, Llama-GQA
// and GPT-NeoX (parallel and sequential) models.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/model/loader.h"
#include "probes/registry.h"
#include "probes/run_probe.h"
#include "tests/test_paths.h"

namespace mechscope::test {
namespace {

struct Golden {
  std::unique_ptr<Model> model;
  std::unique_ptr<SafetensorsFile> file;
  nlohmann::json inputs;
  probes::ProbeInputs probe_inputs;

  explicit Golden(const std::string& name) {
    model = load_model(golden_dir() / "models" / name);
    file = std::make_unique<SafetensorsFile>(golden_dir() / "probes" / name / "probes.safetensors");
    std::ifstream in(golden_dir() / "probes" / name / "inputs.json");
    inputs = nlohmann::json::parse(in);
    probe_inputs.tokens = inputs.at("tokens").get<std::vector<int64_t>>();
    probe_inputs.corrupt_tokens = inputs.at("corrupt_tokens").get<std::vector<int64_t>>();
    probe_inputs.answer_id = inputs.at("answer_id").get<int64_t>();
    probe_inputs.wrong_id = inputs.at("wrong_id").get<int64_t>();
  }
  bool has(const std::string& name) const { return file->contains(name); }
  at::Tensor expected(const std::string& name) const { return file->tensor(name, at::kFloat); }
  Result run(const std::string& probe, const nlohmann::json& options) const {
    static const probes::ProbeRegistry registry = probes::ProbeRegistry::builtin();
    return probes::run_probe(registry.get(probe), *model, probe_inputs, options);
  }
};

at::Tensor tensor_of(const Array& a) {
  return at::tensor(a.data, at::kFloat).view(a.shape);
}

/// Max |a − b| after checking the shapes agree.
double diff(const Array& got, const at::Tensor& want, const std::string& what) {
  INFO(what);
  const at::Tensor g = tensor_of(got);
  REQUIRE(g.sizes() == want.sizes());
  return (g - want).abs().max().item<double>();
}

const std::vector<std::string> kModels = {"gpt2", "llama_gqa", "neox_parallel", "neox_sequential"};

}  // namespace

TEST_CASE("activation patching equals TransformerLens patching.py for every target",
          "[probes][goldens]") {
  for (const std::string& name : kModels) {
    Golden g(name);
    for (const char* target : {"resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out", "z",
                               "q", "k", "v", "pattern", "block"}) {
      const std::string key = std::string("activation_patching/") + target;
      if (!g.has(key)) {
        CHECK_THROWS_WITH(g.run("activation_patching", {{"target", target}}),
                          Catch::Contains("no resid_mid"));
        continue;
      }
      const Result r = g.run("activation_patching", {{"target", target}});
      CHECK(diff(r.array("effect"), g.expected(key), name + " " + key) <= 1e-4);
      CHECK(r.meta["clean_metric"].get<double>() ==
            Approx(g.expected("metric/clean").item<double>()).margin(1e-4));
      CHECK(r.meta["corrupted_metric"].get<double>() ==
            Approx(g.expected("metric/corrupted").item<double>()).margin(1e-4));
      if (std::string(target) == "z" || std::string(target) == "q" ||
          std::string(target) == "k" || std::string(target) == "v" ||
          std::string(target) == "pattern") {
        const Result p =
            g.run("activation_patching", {{"target", target}, {"per_position", true}});
        CHECK(diff(p.array("effect"), g.expected(key + "/per_position"), name + " " + key +
                                                                           "/per_position") <= 1e-4);
      }
    }
    for (const char* metric : {"logprob", "prob", "normalized"}) {
      const Result r = g.run("activation_patching", {{"metric", metric}});
      CHECK(diff(r.array("effect"), g.expected(std::string("activation_patching/resid_pre/") + metric),
                 name + " metric " + metric) <= 1e-4);
    }
    const Result r = g.run("activation_patching", nlohmann::json::object());
    CHECK(diff(r.array("top_prob"), g.expected("activation_patching/resid_pre/top_prob"),
               name + " top_prob") <= 1e-4);
    // Ranks whose probabilities are not tied name the same tokens.
    const at::Tensor got = tensor_of(r.array("top_token"));
    const at::Tensor want = g.expected("activation_patching/resid_pre/top_token");
    CHECK((got.select(-1, 0) == want.select(-1, 0)).all().item<bool>());
  }
}

TEST_CASE("attribution patching equals autograd for every target and neurons",
          "[probes][goldens]") {
  for (const std::string& name : kModels) {
    Golden g(name);
    for (const char* target : {"resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out", "z",
                               "q", "k", "v", "pattern", "block", "neuron"}) {
      const std::string key = std::string("attribution_patching/") + target;
      if (!g.has(key)) continue;
      const Result r = g.run("attribution_patching", {{"target", target}});
      CHECK(diff(r.array("effect"), g.expected(key), name + " " + key) <= 1e-4);
      if (g.has(key + "/per_position")) {
        const Result p =
            g.run("attribution_patching", {{"target", target}, {"per_position", true}});
        CHECK(diff(p.array("effect"), g.expected(key + "/per_position"),
                   name + " " + key + "/per_position") <= 1e-4);
      }
    }
    // Every target from the same two forward passes and one backward pass.
    const Result all = g.run("attribution_patching", {{"all_targets", true}});
    CHECK(diff(all.array("effect_neuron"), g.expected("attribution_patching/neuron"),
               name + " all_targets neuron") <= 1e-4);
    CHECK(diff(all.array("effect_z"), g.expected("attribution_patching/z"),
               name + " all_targets z") <= 1e-4);
  }
}

TEST_CASE("path patching equals the direct implementation of Wang et al.", "[probes][goldens]") {
  for (const std::string& name : kModels) {
    Golden g(name);
    const std::string receivers = g.inputs.at("receivers");
    for (const char* input : {"q", "k", "v"}) {
      const Result r =
          g.run("path_patching", {{"receivers", receivers}, {"receiver_input", input}});
      CHECK(diff(r.array("effect"), g.expected(std::string("path_patching/") + input),
                 name + " path " + input) <= 1e-4);
    }
    const Result logits = g.run("path_patching", {{"receivers", "logits"}});
    CHECK(diff(logits.array("effect"), g.expected("path_patching/logits"), name + " logits") <=
          1e-4);
  }
}

TEST_CASE("direct logit attribution matches and sums to the logit difference",
          "[probes][goldens]") {
  for (const std::string& name : kModels) {
    Golden g(name);
    const Result r = g.run("logit_attribution", {{"neurons", true}});
    CHECK(diff(r.array("heads"), g.expected("logit_attribution/heads"), name + " heads") <= 1e-4);
    CHECK(diff(r.array("mlp"), g.expected("logit_attribution/mlp"), name + " mlp") <= 1e-4);
    CHECK(diff(r.array("other"), g.expected("logit_attribution/other"), name + " other") <= 1e-4);
    CHECK(diff(r.array("neurons"), g.expected("logit_attribution/neurons"), name + " neurons") <=
          1e-4);
    CHECK(r.array("other").axes[0].labels ==
          g.inputs.at("other_labels").get<std::vector<std::string>>());
    const double actual = g.expected("logit_attribution/logit_diff").item<double>();
    CHECK(r.meta["logit_diff"].get<double>() == Approx(actual).margin(1e-4));
    double sum = 0;
    for (const char* a : {"heads", "mlp", "other"})
      for (float v : r.array(a).data) sum += v;
    CHECK(sum == Approx(actual).margin(1e-4));
    // Each layer's neurons plus its output bias make its MLP term.
    const at::Tensor neurons = tensor_of(r.array("neurons")).sum(1);
    const at::Tensor mlp = tensor_of(r.array("mlp"));
    if (!g.model->weights().layers[0].out_b.defined())
      CHECK((neurons - mlp).abs().max().item<double>() <= 1e-4);
  }
}

TEST_CASE("logit lens equals the final norm and unembedding of each layer's input",
          "[probes][goldens]") {
  for (const std::string& name : kModels) {
    Golden g(name);
    const Result r = g.run("logit_lens", nlohmann::json::object());
    CHECK(diff(r.array("top_prob"), g.expected("logit_lens/top_prob"), name + " top_prob") <= 1e-4);
    CHECK(diff(r.array("answer_logprob"), g.expected("logit_lens/answer_logprob"),
               name + " answer_logprob") <= 1e-4);
    const at::Tensor got = tensor_of(r.array("top_token")).select(-1, 0);
    CHECK((got == g.expected("logit_lens/top_token").select(-1, 0)).all().item<bool>());
    CHECK(r.array("top_token").axes[0].labels.back() == "final");
  }
}

}  // namespace mechscope::test

namespace mechscope::test {

TEST_CASE("every probe gives the same numbers on CUDA", "[cuda]") {
  if (!at::hasCUDA()) {
    WARN("No CUDA GPU available to this LibTorch: skipping the [cuda] tests");
    return;
  }
  const auto& registry = probes::ProbeRegistry::builtin();
  for (const std::string& name : {std::string("gpt2"), std::string("llama_gqa")}) {
    Golden g(name);
    LoadOptions o;
    o.device = parse_device("cuda");
    auto gpu = load_model(golden_dir() / "models" / name, o);
    for (const auto& [probe, options] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"activation_patching", {{"target", "z"}, {"per_position", true}}},
             {"activation_patching", {{"target", "block"}}},
             {"attribution_patching", {{"all_targets", true}}},
             {"path_patching", {{"receivers", "L1H0,L1H1"}}},
             {"logit_attribution", {{"neurons", true}}},
             {"logit_lens", nlohmann::json::object()}}) {
      INFO(name << " " << probe);
      const Result cpu = probes::run_probe(registry.get(probe), *g.model, g.probe_inputs, options);
      const Result cuda = probes::run_probe(registry.get(probe), *gpu, g.probe_inputs, options);
      for (const auto& [array, values] : cpu.arrays) {
        if (array.find("token") != std::string::npos) continue;  // ties may order differently
        CHECK(diff(cuda.array(array), tensor_of(values), array) <= 1e-3);
      }
    }
  }
}

}  // namespace mechscope::test
