// Hook points: names, caching only what was asked, replacing activations, stopping the run.
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "core/util/cancel.h"
#include "core/util/error.h"
#include "tests/core/model_test_utils.h"

using namespace mechscope;
using namespace mechscope::test;

namespace {
bool has_name(const Model& m, const std::string& n) {
  const auto& names = m.hook_names();
  return std::find(names.begin(), names.end(), n) != names.end();
}
at::Tensor sample_tokens() {
  return at::tensor(std::vector<int64_t>{3, 14, 15, 92, 65, 35, 89, 79}, at::kLong).unsqueeze(0);
}
}  // namespace

TEST_CASE("hook point names follow TransformerLens and the architecture", "[hooks]") {
  auto gpt2 = load_model(golden_model("gpt2"));
  for (const char* n : {"hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre",
                        "blocks.0.ln1.hook_scale", "blocks.0.ln1.hook_normalized",
                        "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v",
                        "blocks.0.attn.hook_z", "blocks.0.attn.hook_attn_scores",
                        "blocks.0.attn.hook_pattern", "blocks.0.attn.hook_result",
                        "blocks.0.hook_attn_out", "blocks.0.hook_resid_mid",
                        "blocks.1.mlp.hook_pre", "blocks.1.mlp.hook_post",
                        "blocks.1.hook_mlp_out", "blocks.1.hook_resid_post",
                        "ln_final.hook_scale", "ln_final.hook_normalized"})
    CHECK(has_name(*gpt2, n));
  CHECK_FALSE(has_name(*gpt2, "blocks.0.attn.hook_rot_q"));
  CHECK_FALSE(has_name(*gpt2, "blocks.0.mlp.hook_pre_linear"));

  auto neox = load_model(golden_model("neox_parallel"));
  CHECK(has_name(*neox, "blocks.0.attn.hook_rot_k"));
  CHECK_FALSE(has_name(*neox, "blocks.0.hook_resid_mid"));  // parallel residual has no mid point
  CHECK_FALSE(has_name(*neox, "hook_pos_embed"));

  auto llama = load_model(golden_model("llama_gqa"));
  CHECK(has_name(*llama, "blocks.1.mlp.hook_pre_linear"));
  CHECK(has_name(*llama, "blocks.1.attn.hook_rot_q"));
}

TEST_CASE("a cache run keeps only the requested names, with TransformerLens shapes", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("llama_gqa"));
  const auto& c = m->config();
  auto cache = m->run_with_cache(sample_tokens(), {}, names_matching("^blocks\\.1\\.attn\\."));
  CHECK(cache.size() == 9);  // q k v rot_q rot_k attn_scores pattern z result
  for (const auto& [name, t] : cache) CHECK(name.rfind("blocks.1.attn.", 0) == 0);
  CHECK(cache.at("blocks.1.attn.hook_q").sizes() == at::IntArrayRef({1, 8, c.n_heads, c.d_head}));
  CHECK(cache.at("blocks.1.attn.hook_k").sizes() == at::IntArrayRef({1, 8, c.n_kv_heads, c.d_head}));
  CHECK(cache.at("blocks.1.attn.hook_pattern").sizes() == at::IntArrayRef({1, c.n_heads, 8, 8}));
  CHECK(cache.at("blocks.1.attn.hook_result").sizes() ==
        at::IntArrayRef({1, 8, c.n_heads, c.d_model}));
  // Each pattern row is a distribution over earlier positions.
  at::Tensor pattern = cache.at("blocks.1.attn.hook_pattern");
  CHECK(max_abs_diff(pattern.sum(-1), at::ones({1, c.n_heads, 8})) < 1e-5);
  CHECK(pattern[0][0][2][5].item<float>() == 0.0f);
}

TEST_CASE("hook_result per head sums to the attention output", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("gpt2"));
  auto cache = m->run_with_cache(sample_tokens(), {}, names_matching("blocks\\.0\\.(attn\\.hook_result|hook_attn_out)"));
  at::Tensor summed = cache.at("blocks.0.attn.hook_result").sum(2) + m->weight("blocks.0.attn.b_O");
  CHECK(max_abs_diff(summed, cache.at("blocks.0.hook_attn_out")) < 1e-5);
}

TEST_CASE("TransformerLens weights reproduce hook_q and hook_v", "[hooks][weights]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("qwen2"));
  const auto& c = m->config();
  CHECK(m->weight("blocks.0.attn.W_Q").sizes() == at::IntArrayRef({c.n_heads, c.d_model, c.d_head}));
  CHECK(m->weight("blocks.0.attn.W_K").sizes() == at::IntArrayRef({c.n_kv_heads, c.d_model, c.d_head}));
  CHECK(m->weight("blocks.0.attn.W_K", true).sizes() == at::IntArrayRef({c.n_heads, c.d_model, c.d_head}));
  CHECK(m->weight("blocks.0.attn.W_O").sizes() == at::IntArrayRef({c.n_heads, c.d_head, c.d_model}));
  CHECK(m->weight("blocks.0.mlp.W_in").sizes() == at::IntArrayRef({c.d_model, c.d_mlp}));
  CHECK(m->weight("blocks.0.mlp.W_gate").sizes() == at::IntArrayRef({c.d_model, c.d_mlp}));
  CHECK(m->weight("blocks.0.mlp.W_out").sizes() == at::IntArrayRef({c.d_mlp, c.d_model}));
  CHECK(m->weight("unembed.W_U").sizes() == at::IntArrayRef({c.d_model, c.d_vocab}));
  CHECK_THROWS_WITH(m->weight("blocks.0.attn.W_X"), Catch::Contains("Unknown weight name"));

  auto cache = m->run_with_cache(sample_tokens(), {}, names_matching("blocks\\.0\\.(ln1\\.hook_normalized|attn\\.hook_[qv])$"));
  at::Tensor x = cache.at("blocks.0.ln1.hook_normalized") * m->weight("blocks.0.ln1.w");
  at::Tensor q = at::einsum("bpd,hde->bphe", {x, m->weight("blocks.0.attn.W_Q")}) +
                 m->weight("blocks.0.attn.b_Q");
  CHECK(max_abs_diff(q, cache.at("blocks.0.attn.hook_q")) < 1e-5);
  at::Tensor v = at::einsum("bpd,hde->bphe", {x, m->weight("blocks.0.attn.W_V")}) +
                 m->weight("blocks.0.attn.b_V");
  CHECK(max_abs_diff(v, cache.at("blocks.0.attn.hook_v")) < 1e-5);
}

TEST_CASE("LayerNorm hooks: hook_normalized = (x - mean) / hook_scale", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("gpt2"));
  auto cache = m->run_with_cache(sample_tokens(), {}, names_matching("blocks\\.1\\.(hook_resid_mid|ln2\\.)"));
  at::Tensor x = cache.at("blocks.1.hook_resid_mid");
  at::Tensor want = (x - x.mean(-1, true)) / cache.at("blocks.1.ln2.hook_scale");
  CHECK(max_abs_diff(want, cache.at("blocks.1.ln2.hook_normalized")) < 1e-6);
}

TEST_CASE("a hook can replace an activation (zero-ablation)", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("llama_gqa"));
  HookSet hooks;
  hooks.add("blocks.0.hook_attn_out", [](HookCall& h) { h.value = at::zeros_like(h.value); });
  at::Tensor pre, mid;
  hooks.add("blocks.0.hook_resid_pre", [&](HookCall& h) { pre = h.value; });
  hooks.add("blocks.0.hook_resid_mid", [&](HookCall& h) { mid = h.value; });
  ForwardOutput ablated = m->run(sample_tokens(), {}, &hooks);
  CHECK(max_abs_diff(pre, mid) == 0.0);
  CHECK(max_abs_diff(ablated.logits, m->forward(sample_tokens())) > 1e-3);
}

TEST_CASE("patching a residual stream from another run transplants its output", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("neox_sequential"));
  at::Tensor clean = sample_tokens();
  at::Tensor other = clean.clone();
  other[0][3] = 7;
  auto other_cache = m->run_with_cache(other, {}, names_matching("^blocks\\.1\\.hook_resid_pre$"));
  HookSet hooks;
  hooks.add("blocks.1.hook_resid_pre",
            [&](HookCall& h) { h.value = other_cache.at("blocks.1.hook_resid_pre"); });
  // Everything downstream of layer 1's input comes from the other run.
  CHECK(max_abs_diff(m->run(clean, {}, &hooks).logits, m->forward(other)) < 1e-5);
}

TEST_CASE("a hook can stop the forward pass", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("gpt2"));
  HookSet hooks;
  bool later_called = false;
  at::Tensor seen;
  hooks.add("blocks.0.hook_resid_post", [&](HookCall& h) {
    seen = h.value;
    h.stop = true;
  });
  hooks.add("blocks.1.hook_resid_pre", [&](HookCall&) { later_called = true; });
  ForwardOutput out = m->run(sample_tokens(), {}, &hooks);
  CHECK(out.stopped);
  CHECK_FALSE(out.logits.defined());
  CHECK_FALSE(later_called);
  CHECK(seen.sizes() == at::IntArrayRef({1, 8, m->config().d_model}));
}

TEST_CASE("editing a weight through its TransformerLens view changes the model", "[weights]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("llama_gqa"));
  at::Tensor before = m->forward(sample_tokens());
  m->weight("blocks.1.attn.W_O").mul_(0.0);
  auto cache = m->run_with_cache(sample_tokens(), {}, names_matching("blocks\\.1\\.hook_attn_out"));
  CHECK(cache.at("blocks.1.hook_attn_out").abs().max().item<float>() == 0.0f);
  CHECK(max_abs_diff(before, m->forward(sample_tokens())) > 1e-4);
}

TEST_CASE("patching one head's hook_result changes the attention output by that head", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("llama_gqa"));
  auto clean = m->run_with_cache(sample_tokens(), {}, names_matching("blocks\\.0\\.(attn\\.hook_result|hook_attn_out)"));
  HookSet hooks;
  hooks.add("blocks.0.attn.hook_result", [](HookCall& h) {
    at::Tensor r = h.value.clone();
    r.select(2, 1).zero_();
    h.value = r;
  });
  at::Tensor patched;
  hooks.add("blocks.0.hook_attn_out", [&](HookCall& h) { patched = h.value; });
  m->run(sample_tokens(), {}, &hooks);
  at::Tensor want = clean.at("blocks.0.hook_attn_out") - clean.at("blocks.0.attn.hook_result").select(2, 1);
  CHECK(max_abs_diff(patched, want) < 1e-5);
}

TEST_CASE("an in-place edit takes effect at every hook point, as a replacement does", "[hooks]") {
  c10::InferenceMode guard;
  for (const char* family : {"gpt2", "llama_gqa", "neox_parallel"}) {
    auto m = load_model(golden_model(family));
    const at::Tensor plain = m->forward(sample_tokens());
    for (const std::string& name : m->hook_names()) {
      INFO(family << " " << name);
      HookSet in_place, replaced;
      in_place.add(name, [](HookCall& h) { h.value.mul_(0.5); });
      replaced.add(name, [](HookCall& h) { h.value = h.value * 0.5; });
      const at::Tensor a = m->run(sample_tokens(), {}, &in_place).logits;
      const at::Tensor b = m->run(sample_tokens(), {}, &replaced).logits;
      CHECK(max_abs_diff(a, b) < 1e-5);
      // The edit reached the output (hook_scale of a norm is the one edit a later norm of the
      // same statistics can hide, so only check that something changed overall).
      if (name.find("hook_scale") == std::string::npos) CHECK(max_abs_diff(a, plain) > 1e-6);
    }
  }
}

TEST_CASE("hook points are addressed by kind and layer", "[hooks]") {
  c10::InferenceMode guard;
  auto m = load_model(golden_model("neox_parallel"));
  const HookPoints& points = m->hook_points();
  CHECK(points.name(HookKind::Z, 1) == "blocks.1.attn.hook_z");
  CHECK(points.name(HookKind::LnFinalScale, -1) == "ln_final.hook_scale");
  CHECK_THROWS_WITH(points.name(HookKind::ResidMid, 0),
                    Catch::Contains("no hook point blocks.0.hook_resid_mid"));
  CHECK_THROWS_WITH(points.name(HookKind::Z, 7), Catch::Contains("it has 2 layers"));
  // A kind subscription sees the same tensors as the name subscription.
  std::vector<int> layers;
  at::Tensor by_kind, by_name;
  HookSet hooks;
  hooks.add(HookKind::Pattern, HookSet::kEveryLayer, [&](HookCall& h) { layers.push_back(h.layer); });
  hooks.add(HookKind::Z, 1, [&](HookCall& h) { by_kind = h.value; });
  hooks.add("blocks.1.attn.hook_z", [&](HookCall& h) { by_name = h.value; });
  m->run(sample_tokens(), {}, &hooks);
  CHECK(layers == std::vector<int>{0, 1});
  CHECK(by_kind.is_same(by_name));
}

TEST_CASE("a run from a layer's residual input equals the full run", "[hooks]") {
  c10::InferenceMode guard;
  for (const char* family : {"gpt2", "llama_gqa", "neox_sequential"}) {
    auto m = load_model(golden_model(family));
    auto cache = m->run_with_cache(sample_tokens(), {}, names_matching("hook_resid_pre$"));
    const ForwardOutput full = m->run(sample_tokens());
    for (int l = 0; l < m->config().n_layers; ++l) {
      const at::Tensor resid = cache.at("blocks." + std::to_string(l) + ".hook_resid_pre");
      CHECK(max_abs_diff(m->run_from(l, resid).logits, full.logits) < 1e-5);
    }
    CHECK(max_abs_diff(m->run_from(m->config().n_layers, full.resid).logits, full.logits) < 1e-5);
    // The final norm and unembedding alone, on any batch of vectors.
    CHECK(max_abs_diff(m->unembed(full.resid), full.logits) < 1e-5);
    CHECK_THROWS_WITH(m->run_from(-1, full.resid), Catch::Contains("Cannot start"));
  }
}

TEST_CASE("a CancelScope stops forward passes on its thread between blocks", "[hooks]") {
  auto model = load_model(golden_model("gpt2"));
  const at::Tensor tokens = at::arange(8, at::kLong).view({1, 8});
  int asked = 0;
  {
    const CancelScope scope([&] { return ++asked > 1; });  // stop before the second block
    HookSet hooks;
    int blocks = 0;
    hooks.add("blocks.0.hook_resid_post", [&](HookCall&) { ++blocks; });
    hooks.add("blocks.1.hook_resid_post", [&](HookCall&) { ++blocks; });
    CHECK_THROWS_AS(model->run(tokens, {}, &hooks), Cancelled);
    CHECK(asked == 2);
    CHECK(blocks == 1);
    {  // an inner scope that never stops applies while it lives
      const CancelScope inner([] { return false; });
      CHECK_NOTHROW(model->run(tokens));
    }
    CHECK_THROWS_AS(model->run(tokens), Cancelled);
  }
  CHECK_NOTHROW(model->run(tokens));  // no scope: nothing asks
}
