// Weight processing and the weight-space probes against TransformerLens / torch goldens
// (tests/reference/make_weight_goldens.py, tests/golden/weights/README.md) on tiny GPT-2,
// Llama-GQA and GPT-NeoX models.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
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

const std::vector<std::string> kModels = {"gpt2", "llama_gqa", "neox_parallel"};

struct WeightGolden {
  SafetensorsFile file;
  nlohmann::json inputs;
  explicit WeightGolden(const std::string& name)
      : file(golden_dir() / "weights" / name / "weights.safetensors") {
    std::ifstream in(golden_dir() / "weights" / name / "inputs.json");
    inputs = nlohmann::json::parse(in);
  }
  at::Tensor operator()(const std::string& key) const { return file.tensor(key, at::kFloat); }
};

at::Tensor tensor_of(const Array& a) { return at::tensor(a.data, at::kFloat).view(a.shape); }

double max_diff(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  INFO(what);
  REQUIRE(got.sizes() == want.sizes());
  return (got.to(at::kCPU).to(at::kFloat) - want).abs().max().item<double>();
}

/// Token ids agree wherever the reference's neighbouring ranks are not (near-)tied.
void check_tokens(const Array& got, const at::Tensor& ids, const at::Tensor& values,
                  const std::string& what) {
  INFO(what);
  const at::Tensor g = tensor_of(got);
  REQUIRE(g.sizes() == ids.sizes());
  const at::Tensor gap = (values.narrow(-1, 1, values.size(-1) - 1) -
                          values.narrow(-1, 0, values.size(-1) - 1)).abs();  // [..., k-1]
  at::Tensor clear = at::ones_like(ids, at::kBool);
  clear.narrow(-1, 0, ids.size(-1) - 1).logical_and_(gap > 1e-4);
  clear.narrow(-1, 1, ids.size(-1) - 1).logical_and_(gap > 1e-4);
  CHECK(((g == ids) | clear.logical_not()).all().item<bool>());
}

const probes::Probe& probe(const std::string& name) {
  return probes::ProbeRegistry::builtin().get(name);
}

}  // namespace

TEST_CASE("processed weights equal TransformerLens's", "[probes][weights][goldens]") {
  c10::InferenceMode guard;
  for (const std::string& name : kModels) {
    WeightGolden g(name);
    for (const std::string& set : g.inputs.at("process_sets").get<std::vector<std::string>>()) {
      std::string steps = set;
      std::replace(steps.begin(), steps.end(), '+', ',');
      LoadOptions o;
      o.process = WeightProcessing::parse(steps);
      auto model = load_model(golden_dir() / "models" / name, o);
      for (const std::string& key : g.file.names()) {
        const std::string prefix = "process/" + set + "/";
        if (key.rfind(prefix, 0) != 0) continue;
        const std::string weight = key.substr(prefix.size());
        if (weight == "logprobs") {
          const at::Tensor tokens =
              at::tensor(g.inputs.at("tokens").get<std::vector<int64_t>>(), at::kLong).unsqueeze(0);
          CHECK(max_diff(at::log_softmax(model->forward(tokens)[0], -1), g(key),
                         name + " " + key) <= 1e-4);
          continue;
        }
        // The bridge keeps an all-zero b_U for models without one, and ones/zeros for folded
        // norms: compare what this model has, and zeros/ones otherwise.
        at::Tensor got;
        try {
          got = model->weight(weight, true);
        } catch (const std::exception&) {
          CHECK(g(key).abs().max().item<double>() == 0);
          continue;
        }
        CHECK(max_diff(got, g(key), name + " " + key) <= 1e-4);
      }
    }
  }
}

TEST_CASE("neuron decoding equals the reference, through the norm and raw",
          "[probes][weights][goldens]") {
  for (const std::string& name : kModels) {
    WeightGolden g(name);
    auto model = load_model(golden_dir() / "models" / name);
    for (const bool norm : {true, false}) {
      const Result r = probes::run_probe(probe("neuron_decoding"), *model, {},
                                         {{"top_k", 10}, {"through_norm", norm}});
      const std::string base = std::string("neuron_decoding/") + (norm ? "norm/" : "raw/");
      for (const std::string part : {"out_top", "out_bottom", "in_top", "gate_top"}) {
        if (!g.file.contains(base + part + "_logit")) {
          CHECK(r.arrays.count(part + "_logit") == 0);
          continue;
        }
        CHECK(max_diff(tensor_of(r.array(part + "_logit")), g(base + part + "_logit"),
                       name + " " + base + part) <= 1e-4);
        check_tokens(r.array(part + "_token"), g(base + part + "_token"),
                     g(base + part + "_logit"), name + " " + base + part + "_token");
      }
    }
    // A subset of layers keeps their labels.
    const Result one = probes::run_probe(probe("neuron_decoding"), *model, {}, {{"layers", "1"}});
    CHECK(one.array("out_top_token").axes[0].labels == std::vector<std::string>{"L1"});
  }
}

TEST_CASE("head SVD, copying scores, composition and channels equal TransformerLens",
          "[probes][weights][goldens]") {
  for (const std::string& name : kModels) {
    WeightGolden g(name);
    auto model = load_model(golden_dir() / "models" / name);
    const Result svd = probes::run_probe(probe("head_svd"), *model, {}, {{"top_k", 5}, {"token_components", 0}});
    for (const char* sv : {"ov_singular_values", "qk_singular_values"}) {
      const at::Tensor want = g(std::string("head_svd/") + sv);
      const at::Tensor rel = (tensor_of(svd.array(sv)) - want).abs() / want.abs().clamp_min(1e-3);
      CHECK(rel.max().item<double>() <= 1e-4);
    }
    CHECK(max_diff(tensor_of(svd.array("copying_score")), g("head_svd/copying_score"),
                   name + " copying") <= 1e-4);
    check_tokens(svd.array("ov_out_top_token"), g("head_svd/ov_out_top_token"),
                 g("head_svd/ov_out_top_value"), name + " ov_out_top_token");
    check_tokens(svd.array("ov_in_top_token"), g("head_svd/ov_in_top_token"),
                 g("head_svd/ov_in_top_value"), name + " ov_in_top_token");

    const Result comp = probes::run_probe(probe("composition"), *model, {}, {{"baseline", true}});
    for (const char* mode : {"q", "k", "v"})
      CHECK(max_diff(tensor_of(comp.array(mode)), g(std::string("composition/") + mode),
                     name + " composition " + mode) <= 1e-4);
    for (const char* mode : {"q", "k", "v"}) {
      const double base = comp.meta["baseline"][mode].get<double>();
      CHECK(base > 0);
      CHECK(base < 1);
    }

    for (const char* mode : {"q", "k", "v"}) {
      const Result ch = probes::run_probe(
          probe("channels"), *model, {},
          {{"sender", g.inputs["sender"]}, {"receiver", g.inputs["receiver"]}, {"mode", mode}});
      CHECK(max_diff(tensor_of(ch.array("component_score")), g(std::string("channels/") + mode),
                     name + " channels " + mode) <= 1e-4);
    }
  }
}

}  // namespace mechscope::test
