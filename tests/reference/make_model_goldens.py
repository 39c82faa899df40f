#!/usr/bin/env python3
"""Golden files for the C++ model host: tiny random-init Hugging Face models + expected activations.

What it writes (see tests/golden/models/README.md for the full list of tensors):

    tests/golden/models/<name>/config.json            HF config, as written by save_pretrained
    tests/golden/models/<name>/model.safetensors      weights (or model-0000k-of-0000n.safetensors
                                                       + model.safetensors.index.json when sharded)
    tests/golden/models/<name>/generation_config.json as written by save_pretrained (unused)
    tests/golden/models/<name>/expected.safetensors   input_ids, logits, TransformerLens-named activations
    tests/golden/models/<name>/expected_padded.safetensors  right-padded batch: input_ids, attention_mask, logits

Python is reference tooling only; the C++ tests never run it. Re-run it only to regenerate goldens.

Setup (no hub access is needed or used: every model is built from a config with random weights):

    python3 -m venv .venv
    .venv/bin/pip install torch transformers safetensors
    .venv/bin/python tests/reference/make_model_goldens.py        # from the repository root
    .venv/bin/python tests/reference/make_model_goldens.py --only gemma gemma2   # just these models

The goldens in the repository were made with transformers 5.24.0 / torch 2.15.0 (CPU, fp32); the versions
are also recorded in the metadata of every expected*.safetensors. The script is deterministic (fixed seeds,
CPU, eager attention) and takes a few seconds on 2 cores. It self-checks what it writes (hook tensors are
re-derived from each other and from a from-scratch attention recomputation; saved checkpoints are reloaded
and must reproduce the logits) and exits non-zero if a check fails.

Notes on the installed transformers (5.x) that matter for a loader:
  * config.json stores RoPE settings as `rope_parameters` ({"rope_type", "rope_theta", "partial_rotary_factor",
    llama3 keys...}); older checkpoints use `rope_theta` / `rope_scaling` (Llama) or `rotary_pct` /
    `rotary_emb_base` (GPT-NeoX) at the top level. A loader should accept both.
  * `save_pretrained` always writes safetensors in 5.x (there is no `safe_serialization` argument any more)
    and drops tied weights (lm_head.weight) from the file.
  * `hidden_states[-1]` is the final norm's OUTPUT (tied to last_hidden_state), so resid_post of the last
    layer is taken with a forward hook on the decoder layer instead.
"""
from __future__ import annotations

import argparse
import inspect
import math
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import (  # noqa: E402
    Gemma2Config,
    Gemma2ForCausalLM,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GemmaConfig,
    GemmaForCausalLM,
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)
from transformers.utils import logging as hf_logging  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_io import save_golden  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()

REPO = Path(__file__).resolve().parents[2]
OUT_ROOT = REPO / "tests" / "golden" / "models"

BATCH = 2
T = 11                      # sequence length of expected.safetensors
PADDED_LENGTHS = (11, 6)    # real lengths of the two prompts in expected_padded.safetensors (right padding)
PAD_ID = 0
CHECK_TOL = 2e-5            # internal consistency checks (fp32, same machine)

torch.set_num_threads(min(2, os.cpu_count() or 1))


# --------------------------------------------------------------------------------------------------------------
# The tiny models. Dimensions differ between models on purpose (vocab != d_model != d_mlp, ...) so that a
# transposed or mis-shaped tensor cannot go unnoticed.
# --------------------------------------------------------------------------------------------------------------
COMMON = dict(attn_implementation="eager")

# llama3 rope scaling. head_dim = 8 (explicit; d_model 32, 8 heads), so there are 4 RoPE frequencies with rope_theta 500000:
#   inv_freq = 500000^(-i/8), i = 0,2,4,6 -> wavelengths 2*pi/inv_freq = 6.28, 167.1, 4443, 118147.
# With original_max_position_embeddings = 256 and low/high_freq_factor 1/4, HF's _compute_llama3_parameters uses
#   low_freq_wavelen = 256 / 1 = 256, high_freq_wavelen = 256 / 4 = 64, so the frequencies fall in all three bands:
#   6.28 < 64           -> high frequency, kept as is
#   64 <= 167.1 <= 256  -> medium, smoothed: smooth = (256/167.1 - 1) / (4 - 1) = 0.177,
#                          inv = (1 - smooth) * inv / 8 + smooth * inv  (= 0.280 * inv)
#   4443, 118147 > 256  -> low frequency, divided by factor 8
# (With the original_max_position_embeddings = 16 first suggested, high_freq_wavelen = 4 < 2*pi, i.e. no frequency
#  could stay unscaled at this head_dim; 256 exercises every branch.) The script checks that the scaled and
#  unscaled models give logits that differ by far more than the 1e-4 test tolerance.
LLAMA3_ROPE = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    "original_max_position_embeddings": 256,
    "rope_theta": 500000.0,
}

LLAMA_GQA = dict(
    vocab_size=113, hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, tie_word_embeddings=False,
    rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
)

# Gemma. Every model has head_dim != d_model / n_heads and shared key/value heads. Norm gains are stored as w with
# the scale 1 + w (rerandomize draws them like any gain, 1 + N(0, 0.1), so the scale is about 2).
GEMMA3_LAYER_TYPES = ["sliding_attention", "sliding_attention", "full_attention"]
GEMMA3_ROPE = {
    "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
    "full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 1000000.0},
}

SPECS = [
    dict(name="gpt2", cls=GPT2LMHeadModel, seed=101, family="gpt2",
         config=GPT2Config(vocab_size=120, n_positions=32, n_embd=32, n_layer=2, n_head=4, n_inner=None,
                           activation_function="gelu_new", layer_norm_epsilon=1e-5, tie_word_embeddings=True,
                           resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **COMMON),
         what="GPT2LMHeadModel, d_model 32, 4 heads (d_head 8), n_inner null (= 4*d_model = 128), gelu_new, "
              "LayerNorm eps 1e-5, tied embeddings (no lm_head.weight in the file), learned positions (32)."),
    dict(name="gpt2_untied_ln_eps", cls=GPT2LMHeadModel, seed=102, family="gpt2",
         config=GPT2Config(vocab_size=104, n_positions=40, n_embd=32, n_layer=2, n_head=4, n_inner=72,
                           activation_function="gelu_new", layer_norm_epsilon=1e-6, tie_word_embeddings=False,
                           resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **COMMON),
         what="as gpt2 but tie_word_embeddings false (lm_head.weight in the file), layer_norm_epsilon 1e-6, "
              "n_inner 72, vocab 104, n_positions 40."),
    dict(name="neox_parallel", cls=GPTNeoXForCausalLM, seed=103, family="neox",
         config=GPTNeoXConfig(vocab_size=110, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=96, hidden_act="gelu", max_position_embeddings=64,
                              rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True,
                              tie_word_embeddings=False, layer_norm_eps=1e-5, attention_bias=True, **COMMON),
         what="GPTNeoXForCausalLM, d_model 32, 2 heads (d_head 16), rotary_pct 0.25 (4 rotary dims), base 10000, "
              "parallel residual, exact-erf gelu, intermediate 96, untied (embed_out), fused query_key_value."),
    dict(name="neox_sequential", cls=GPTNeoXForCausalLM, seed=104, family="neox",
         config=GPTNeoXConfig(vocab_size=126, hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
                              intermediate_size=64, hidden_act="gelu", max_position_embeddings=64,
                              rotary_pct=0.5, rotary_emb_base=500, use_parallel_residual=False,
                              tie_word_embeddings=False, layer_norm_eps=1e-5, attention_bias=True, **COMMON),
         what="as neox_parallel but use_parallel_residual false, d_model 48, 3 heads (d_head 16), rotary_pct 0.5 "
              "(8 rotary dims), rotary_emb_base 500, intermediate 64, vocab 126."),
    dict(name="llama_gqa", cls=LlamaForCausalLM, seed=105, family="llama",
         config=LlamaConfig(**LLAMA_GQA, **COMMON),
         what="LlamaForCausalLM, d_model 32, 4 heads / 2 KV heads (head_dim 8), intermediate 80, SiLU gated MLP, "
              "RMSNorm eps 1e-5, rope_theta 10000, untied, no biases."),
    dict(name="llama_tied_mha", cls=LlamaForCausalLM, seed=106, family="llama",
         config=LlamaConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
                            rms_norm_eps=1e-6, tie_word_embeddings=True,
                            rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, **COMMON),
         what="LlamaForCausalLM, 4 heads = 4 KV heads, head_dim default (8), intermediate 64, RMSNorm eps 1e-6, "
              "tied embeddings (no lm_head.weight in the file), vocab 100."),
    dict(name="llama3_rope_scaling", cls=LlamaForCausalLM, seed=107, family="llama",
         config=LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=8, num_key_value_heads=2, head_dim=8,
                            max_position_embeddings=2048,
                            rms_norm_eps=1e-5, tie_word_embeddings=False, rope_parameters=dict(LLAMA3_ROPE),
                            **COMMON),
         what="LlamaForCausalLM, d_model 32, 8 heads / 2 KV heads, explicit head_dim 8 (so n_heads*head_dim = 64 "
              "!= d_model: q_proj is [64, 32], o_proj [32, 64]), intermediate 64, rope_theta "
              "500000 with llama3 rope scaling (factor 8, low 1, high 4, original_max_position_embeddings 256; "
              "max_position_embeddings 2048). RoPE wavelengths 6.28 (kept), 167 (smoothed), 4443 and 118147 "
              "(divided by 8): every branch of the llama3 formula is used."),
    dict(name="llama_f16", cls=LlamaForCausalLM, seed=108, family="llama", save_dtype=torch.float16,
         config=LlamaConfig(**LLAMA_GQA, **COMMON),
         what="as llama_gqa (different random weights) but weights stored as float16 (config dtype float16); "
              "expectations computed in fp32 from the f16 weights upcast to fp32."),
    dict(name="llama_bf16_sharded", cls=LlamaForCausalLM, seed=109, family="llama", save_dtype=torch.bfloat16,
         shards=3,
         config=LlamaConfig(**LLAMA_GQA, **COMMON),
         what="as llama_gqa (different random weights) but weights stored as bfloat16 in several shards "
              "(model-0000k-of-0000n.safetensors + model.safetensors.index.json); expectations computed in fp32 "
              "from the bf16 weights upcast to fp32."),
    dict(name="mistral_sliding", cls=MistralForCausalLM, seed=110, family="llama",
         config=MistralConfig(vocab_size=107, hidden_size=32, intermediate_size=72, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=1, max_position_embeddings=64,
                              rms_norm_eps=1e-5, sliding_window=6, tie_word_embeddings=False,
                              rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, **COMMON),
         what="MistralForCausalLM, 4 heads / 1 KV head, sliding_window 6 (query q sees keys k with "
              "q-6 < k <= q; T=11 so the window cuts), intermediate 72, untied."),
    dict(name="qwen2", cls=Qwen2ForCausalLM, seed=111, family="llama",
         config=Qwen2Config(vocab_size=119, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                            rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False,
                            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, **COMMON),
         what="Qwen2ForCausalLM, 4 heads / 2 KV heads, q/k/v biases (non-zero), no o_proj bias, rope_theta 1e6, "
              "RMSNorm eps 1e-6, tied embeddings."),
    dict(name="gemma", cls=GemmaForCausalLM, seed=112, family="llama",
         config=GemmaConfig(vocab_size=256, hidden_size=64, intermediate_size=88, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=1, head_dim=24, max_position_embeddings=64,
                            rms_norm_eps=1e-6, tie_word_embeddings=True, hidden_act="gelu_pytorch_tanh",
                            rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, **COMMON),
         what="GemmaForCausalLM, d_model 64, 4 heads / 1 KV head (multi-query), head_dim 24 (q_proj [96, 64]), "
              "GeGLU (gelu_pytorch_tanh) intermediate 88, embeddings scaled by sqrt(64), RMSNorm (1 + w), tied "
              "embeddings (the unembedding is NOT scaled), vocab 256."),
    dict(name="gemma2", cls=Gemma2ForCausalLM, seed=113, family="llama",
         config=Gemma2Config(vocab_size=263, hidden_size=64, intermediate_size=72, num_hidden_layers=3,
                             num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=64,
                             rms_norm_eps=1e-6, tie_word_embeddings=False, query_pre_attn_scalar=20,
                             sliding_window=5, attn_logit_softcapping=5.0, final_logit_softcapping=3.0,
                             rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, **COMMON),
         what="Gemma2ForCausalLM, d_model 64, 4 heads / 2 KV heads, head_dim 24, query_pre_attn_scalar 20 (scores * "
              "20^-0.5), sandwich norms (post_attention_layernorm on the attention OUTPUT, pre/post_feedforward_"
              "layernorm around the MLP), layer_types default: layers 0 and 2 sliding (window 5, T=11 so it cuts), "
              "layer 1 full; attention soft cap 5, final logit soft cap 3, untied, vocab 263. hook_attn_out / "
              "hook_mlp_out are the post-norm outputs (what is added to the residual stream, as in TransformerLens)."),
    dict(name="gemma3", cls=Gemma3ForCausalLM, seed=114, family="llama",
         config=Gemma3TextConfig(vocab_size=300, hidden_size=64, intermediate_size=80, num_hidden_layers=3,
                                 num_attention_heads=4, num_key_value_heads=1, head_dim=32,
                                 max_position_embeddings=128, rms_norm_eps=1e-6, tie_word_embeddings=True,
                                 query_pre_attn_scalar=24, sliding_window=4, layer_types=list(GEMMA3_LAYER_TYPES),
                                 rope_parameters={k: dict(v) for k, v in GEMMA3_ROPE.items()}, **COMMON),
         what="Gemma3ForCausalLM (model_type gemma3_text), d_model 64, 4 heads / 1 KV head, head_dim 32, "
              "query_pre_attn_scalar 24, q_norm/k_norm (RMSNorm (1 + w) over head_dim before RoPE), sandwich norms, "
              "layer_types sliding, sliding, full (what sliding_window_pattern 3 gives), sliding_window 4; "
              "local layers RoPE theta 1e4, global layers theta 1e6 with linear scaling factor 4; no soft caps; tied."),
]


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------
def fail(msg: str) -> None:
    raise SystemExit(f"CHECK FAILED: {msg}")


def check_close(name: str, a: torch.Tensor, b: torch.Tensor, tol: float = CHECK_TOL) -> float:
    if a.shape != b.shape:
        fail(f"{name}: shape {tuple(a.shape)} vs {tuple(b.shape)}")
    err = (a.double() - b.double()).abs().max().item()
    if not err <= tol:
        fail(f"{name}: max abs err {err:.3g} > {tol:g}")
    return err


@torch.no_grad()
def rerandomize(model: torch.nn.Module, seed: int) -> None:
    """Non-degenerate random weights: every parameter, norm gains and biases included.

    embeddings (token and position): N(0, 0.3); other matrices: N(0, 1/sqrt(fan_in)) so that activations stay
    O(1) and attention patterns are neither uniform nor one-hot; norm gains 1 + N(0, 0.1); biases N(0, 0.1).
    """
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():   # tied parameters are listed (and set) once
        if p.ndim == 1:
            if name.endswith("bias"):
                vals = torch.randn(p.shape, generator=g) * 0.1
            else:  # LayerNorm / RMSNorm gain
                vals = 1.0 + torch.randn(p.shape, generator=g) * 0.1
        elif isinstance(model.get_submodule(name.rsplit(".", 1)[0]), torch.nn.Embedding):
            vals = torch.randn(p.shape, generator=g) * 0.3
        else:
            if isinstance(model.get_submodule(name.rsplit(".", 1)[0]), transformers.pytorch_utils.Conv1D):
                fan_in = p.shape[0]     # GPT-2 Conv1D stores [in, out]
            else:
                fan_in = p.shape[1]     # nn.Linear stores [out, in]
            vals = torch.randn(p.shape, generator=g) / math.sqrt(fan_in)
        p.copy_(vals.to(p.dtype))


def arch(model, family: str):
    """Module handles per architecture."""
    if family == "gpt2":
        base = model.transformer
        layers = base.h
        return dict(
            layers=layers, final_norm=base.ln_f,
            attn=lambda l: l.attn, mlp=lambda l: l.mlp, o_proj=lambda l: l.attn.c_proj,
            down=lambda l: l.mlp.c_proj,
            n_heads=model.config.n_head, n_kv=model.config.n_head,
            d_head=model.config.n_embd // model.config.n_head,
        )
    if family == "neox":
        base = model.gpt_neox
        return dict(
            layers=base.layers, final_norm=base.final_layer_norm,
            attn=lambda l: l.attention, mlp=lambda l: l.mlp, o_proj=lambda l: l.attention.dense,
            down=lambda l: l.mlp.dense_4h_to_h,
            n_heads=model.config.num_attention_heads, n_kv=model.config.num_attention_heads,
            d_head=model.config.hidden_size // model.config.num_attention_heads,
        )
    base = model.model
    cfg = model.config
    return dict(
        layers=base.layers, final_norm=base.norm,
        attn=lambda l: l.self_attn, mlp=lambda l: l.mlp, o_proj=lambda l: l.self_attn.o_proj,
        down=lambda l: l.mlp.down_proj,
        n_heads=cfg.num_attention_heads, n_kv=cfg.num_key_value_heads,
        d_head=base.layers[0].self_attn.head_dim,
    )


def first_tensor(x):
    return x[0] if isinstance(x, (tuple, list)) else x


@torch.no_grad()
def run_with_hooks(model, family: str, input_ids: torch.Tensor):
    a = arch(model, family)
    H, KV, D = a["n_heads"], a["n_kv"], a["d_head"]
    acts: dict[str, torch.Tensor] = {}
    handles = []

    def save(name, t):
        if name in acts:
            fail(f"hook {name} fired twice")
        acts[name] = t.detach().to(torch.float32).clone()

    for L, layer in enumerate(a["layers"]):
        p = f"blocks.{L}."

        def resid_pre(mod, args, kwargs, p=p):
            save(p + "hook_resid_pre", args[0] if args else kwargs["hidden_states"])

        def resid_post(mod, args, kwargs, out, p=p):
            save(p + "hook_resid_post", first_tensor(out))

        def attn_out(mod, args, out, p=p):
            save(p + "hook_attn_out", first_tensor(out))

        def mlp_out(mod, args, out, p=p):
            save(p + "hook_mlp_out", first_tensor(out))

        def mlp_post(mod, args, p=p):
            save(p + "mlp.hook_post", args[0])

        def z(mod, args, p=p):
            x = args[0]
            save(p + "attn.hook_z", x.reshape(*x.shape[:-1], H, D))

        # Gemma 2/3 sandwich norms: hook_attn_out / hook_mlp_out are what joins the residual stream, i.e. the
        # outputs of post_attention_layernorm / post_feedforward_layernorm (TransformerLens's ln1_post / ln2_post).
        sandwich = hasattr(layer, "post_feedforward_layernorm")
        attn_writer = layer.post_attention_layernorm if sandwich else a["attn"](layer)
        mlp_writer = layer.post_feedforward_layernorm if sandwich else a["mlp"](layer)
        handles += [
            layer.register_forward_pre_hook(resid_pre, with_kwargs=True),
            layer.register_forward_hook(resid_post, with_kwargs=True),
            attn_writer.register_forward_hook(attn_out),
            mlp_writer.register_forward_hook(mlp_out),
            a["down"](layer).register_forward_pre_hook(mlp_post),
            a["o_proj"](layer).register_forward_pre_hook(z),
        ]
        # Norms' hook_normalized: the input RMS-normalised, before the gain (Gemma's own _norm).
        norms = {}
        if sandwich:
            norms["ln1_post.hook_normalized"] = layer.post_attention_layernorm
            norms["ln2_post.hook_normalized"] = layer.post_feedforward_layernorm
        if hasattr(layer.self_attn, "q_norm"):   # Gemma 3: per head, input [B, heads, T, Dh] -> [B, T, heads, Dh]
            norms["attn.q_norm.hook_normalized"] = layer.self_attn.q_norm
            norms["attn.k_norm.hook_normalized"] = layer.self_attn.k_norm
        for hook_name, norm in norms.items():
            def normalized(mod, args, p=p, hook_name=hook_name):
                x = args[0].float()
                y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + mod.eps)
                save(p + hook_name, y.transpose(1, 2) if "_norm." in hook_name else y)
            handles.append(norm.register_forward_pre_hook(normalized))

        if family == "gpt2":
            def qkv(mod, args, out, p=p):
                q, k, v = out.split(H * D, dim=-1)      # GPT-2 c_attn: [q | k | v], each [H][D]
                for n, t in (("q", q), ("k", k), ("v", v)):
                    save(p + f"attn.hook_{n}", t.reshape(*t.shape[:-1], H, D))
            handles.append(layer.attn.c_attn.register_forward_hook(qkv))
        elif family == "neox":
            def qkv(mod, args, out, p=p):
                # GPT-NeoX query_key_value output is laid out per head: [head][q|k|v][d_head]
                # (modeling_gpt_neox.py: .view(*input_shape, -1, 3 * head_size) then .chunk(3, dim=-1))
                t = out.reshape(*out.shape[:-1], H, 3 * D)
                q, k, v = t.chunk(3, dim=-1)
                for n, x in (("q", q), ("k", k), ("v", v)):
                    save(p + f"attn.hook_{n}", x)
            handles.append(layer.attention.query_key_value.register_forward_hook(qkv))
        else:
            for n, nh in (("q", H), ("k", KV), ("v", KV)):
                def proj(mod, args, out, p=p, n=n, nh=nh):
                    save(p + f"attn.hook_{n}", out.reshape(*out.shape[:-1], nh, D))
                handles.append(getattr(layer.self_attn, f"{n}_proj").register_forward_hook(proj))

    def final_norm(mod, args, out):
        save("ln_final.out", first_tensor(out))
    handles.append(a["final_norm"].register_forward_hook(final_norm))

    try:
        out = model(input_ids=input_ids, output_hidden_states=True, output_attentions=True, use_cache=False)
    finally:
        for h in handles:
            h.remove()

    for L, pat in enumerate(out.attentions):
        acts[f"blocks.{L}.attn.hook_pattern"] = pat.detach().float().clone()
    acts["logits"] = out.logits.detach().float().clone()
    return acts, out


@torch.no_grad()
def self_check(model, family: str, acts: dict, out, input_ids: torch.Tensor, sliding_window: int | None) -> None:
    """Re-derive the hook tensors from each other: catches wrong hook points or wrong q/k/v layouts."""
    a = arch(model, family)
    H, KV, D = a["n_heads"], a["n_kv"], a["d_head"]
    n_layers = len(a["layers"])
    B, Tn = input_ids.shape
    hs = out.hidden_states
    if len(hs) != n_layers + 1:
        fail(f"expected {n_layers + 1} hidden_states, got {len(hs)}")
    for L in range(n_layers):
        p = f"blocks.{L}."
        check_close(p + "resid_pre vs hidden_states[L]", acts[p + "hook_resid_pre"], hs[L], 0.0)
        nxt = acts[f"blocks.{L + 1}.hook_resid_pre"] if L + 1 < n_layers else None
        if nxt is not None:
            check_close(p + "resid_post vs next resid_pre", acts[p + "hook_resid_post"], nxt, 0.0)
        check_close(p + "resid_post = pre + attn_out + mlp_out", acts[p + "hook_resid_post"],
                    acts[p + "hook_resid_pre"] + acts[p + "hook_attn_out"] + acts[p + "hook_mlp_out"])

        # Attention recomputed from scratch out of hook_q/k/v (pre-rotary) -> pattern and z.
        q = acts[p + "attn.hook_q"].transpose(1, 2)  # [B, H, T, D]
        k = acts[p + "attn.hook_k"].transpose(1, 2)  # [B, KV, T, D]
        v = acts[p + "attn.hook_v"].transpose(1, 2)
        attn = a["attn"](a["layers"][L])
        if hasattr(attn, "q_norm"):              # Gemma 3: q/k norms before RoPE
            q, k = attn.q_norm(q), attn.k_norm(k)
        if family != "gpt2":
            pos = torch.arange(Tn)[None]
            rotary = model.gpt_neox.rotary_emb if family == "neox" else model.model.rotary_emb
            if "layer_type" in inspect.signature(rotary.forward).parameters:   # Gemma 3: RoPE per layer type
                cos, sin = rotary(q, pos, attn.layer_type)
            else:
                cos, sin = rotary(q, pos)
            rd = cos.shape[-1]                        # rotary dims (partial for NeoX)

            def rope(x):
                xr, xp = x[..., :rd], x[..., rd:]
                half = rd // 2
                rot = torch.cat((-xr[..., half:], xr[..., :half]), dim=-1)
                return torch.cat((xr * cos[:, None] + rot * sin[:, None], xp), dim=-1)
            q, k = rope(q), rope(k)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        scores = (q @ k.transpose(-1, -2)) * getattr(attn, "scaling", 1 / math.sqrt(D))
        if family == "llama" and getattr(attn, "attn_logit_softcapping", None) is not None:   # Gemma 2
            cap = attn.attn_logit_softcapping
            scores = torch.tanh(scores / cap) * cap
        window = attn.sliding_window if hasattr(attn, "layer_type") else sliding_window  # Gemma 2/3: per layer
        qi = torch.arange(Tn)[:, None]
        ki = torch.arange(Tn)[None, :]
        allowed = ki <= qi
        if window is not None:
            allowed = allowed & (ki > qi - window)
        scores = scores.masked_fill(~allowed, float("-inf"))
        pattern = scores.softmax(-1)
        check_close(p + "attn.hook_pattern (recomputed)", pattern, acts[p + "attn.hook_pattern"])
        check_close(p + "attn.hook_z (recomputed)", (pattern @ v).transpose(1, 2), acts[p + "attn.hook_z"])
        if acts[p + "attn.hook_z"].shape != (B, Tn, H, D):
            fail(p + "hook_z shape")
    check_close("ln_final.out vs hidden_states[-1]", acts["ln_final.out"], hs[-1], 0.0)
    w_u = model.get_output_embeddings().weight.float()
    logits = acts["ln_final.out"] @ w_u.T
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap is not None:                                        # Gemma 2: cap * tanh(logits / cap)
        logits = torch.tanh(logits / cap) * cap
    check_close("logits = ln_final.out @ W_U^T", logits, acts["logits"])


def save_model(model, cfg_dtype, out_dir: Path, spec) -> None:
    if cfg_dtype is not None:
        model = model.to(cfg_dtype)
    kwargs = {}
    if spec.get("shards"):
        nbytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
        kwargs["max_shard_size"] = int(nbytes / spec["shards"]) + 1
    model.save_pretrained(out_dir, **kwargs)


def st_save(path: Path, tensors: dict, meta: dict) -> None:
    save_golden(path, tensors, meta)


def rand_ids(vocab: int, shape, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, vocab, shape, generator=g, dtype=torch.int64)   # never the pad id 0


def hf_load(cls, out_dir: Path):
    return cls.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager").eval()


# --------------------------------------------------------------------------------------------------------------
# Architecture-specific sanity probes (answers to "does HF really do X here?")
# --------------------------------------------------------------------------------------------------------------
@torch.no_grad()
def probe_llama3(model, input_ids) -> str:
    cfg_plain = model.config.to_dict()
    cfg_plain["rope_parameters"] = {"rope_type": "default", "rope_theta": LLAMA3_ROPE["rope_theta"]}
    plain = LlamaForCausalLM(LlamaConfig.from_dict(cfg_plain, attn_implementation="eager")).eval()
    plain.load_state_dict(model.state_dict())
    inv_scaled = model.model.rotary_emb.inv_freq
    inv_plain = plain.model.rotary_emb.inv_freq
    d = (model(input_ids, use_cache=False).logits - plain(input_ids, use_cache=False).logits).abs().max().item()
    if not d > 1e-2:
        fail(f"llama3 rope scaling barely changes the logits ({d:.3g})")
    ratio = (inv_scaled / inv_plain).tolist()
    if not (abs(ratio[0] - 1) < 1e-6 and 0.2 < ratio[1] < 0.9 and all(abs(r - 0.125) < 1e-6 for r in ratio[2:])):
        fail(f"unexpected llama3 ratios {ratio}")
    return (f"    llama3: wavelengths {[round(2 * math.pi / f, 2) for f in inv_plain.tolist()]}, "
            f"scaled/unscaled inv_freq {[round(r, 4) for r in ratio]}, max |dlogits| vs unscaled {d:.3f}")


@torch.no_grad()
def probe_sliding(model, acts, input_ids, window: int) -> str:
    for L in range(model.config.num_hidden_layers):
        pat = acts[f"blocks.{L}.attn.hook_pattern"]
        qi = torch.arange(T)[:, None]
        ki = torch.arange(T)[None, :]
        outside = (ki <= qi - window)
        if pat[..., outside].abs().max().item() != 0.0:
            fail("mistral eager attention does not apply the sliding window")
        inside = (ki <= qi) & ~outside
        if not (pat[..., inside] > 0).all():
            fail("mistral: zero attention inside the window")
    cfg_full = model.config.to_dict()
    cfg_full["sliding_window"] = None
    full = MistralForCausalLM(MistralConfig.from_dict(cfg_full, attn_implementation="eager")).eval()
    full.load_state_dict(model.state_dict())
    d = (model(input_ids, use_cache=False).logits - full(input_ids, use_cache=False).logits).abs().max().item()
    if not d > 1e-2:
        fail(f"sliding window barely changes the logits ({d:.3g})")
    return (f"    mistral: eager pattern is exactly 0 for k <= q-{window} and > 0 for q-{window} < k <= q; "
            f"max |dlogits| vs sliding_window=None {d:.3f}")


@torch.no_grad()
def variant_dlogits(model, input_ids, edit) -> float:
    """max |dlogits| between `model` and the same weights under a config changed by edit(config_dict)."""
    cfg = model.config.to_dict()
    edit(cfg)
    other = type(model)(type(model.config).from_dict(cfg, attn_implementation="eager")).eval()
    other.load_state_dict(model.state_dict())
    return (model(input_ids, use_cache=False).logits - other(input_ids, use_cache=False).logits).abs().max().item()


@torch.no_grad()
def probe_gemma(model, acts, input_ids) -> str:
    """Local layers mask outside the window (global ones do not); each Gemma-specific setting changes the logits."""
    cfg = model.config
    window = cfg.sliding_window
    qi = torch.arange(T)[:, None]
    ki = torch.arange(T)[None, :]
    outside = ki <= qi - window
    for L, layer_type in enumerate(cfg.layer_types):
        pat = acts[f"blocks.{L}.attn.hook_pattern"]
        if layer_type == "sliding_attention" and pat[..., outside].abs().max().item() != 0.0:
            fail(f"{cfg.model_type}: layer {L} attends outside its sliding window")
        if layer_type == "full_attention" and not (pat[..., outside] > 0).all():
            fail(f"{cfg.model_type}: global layer {L} does not attend outside the window")
    checks = {"sliding window": lambda c: c.update(sliding_window=64),
              "query_pre_attn_scalar": lambda c: c.update(query_pre_attn_scalar=c["head_dim"])}
    if cfg.model_type == "gemma2":
        checks["attention soft cap"] = lambda c: c.update(attn_logit_softcapping=None)
        checks["final soft cap"] = lambda c: c.update(final_logit_softcapping=None)
    else:
        def same_bases(c):
            c["rope_parameters"]["sliding_attention"]["rope_theta"] = c["rope_parameters"]["full_attention"]["rope_theta"]

        def no_scaling(c):
            c["rope_parameters"]["full_attention"] = {"rope_type": "default", "rope_theta": 1000000.0}
        checks["local RoPE base"] = same_bases
        checks["global rope scaling"] = no_scaling
    diffs = {name: variant_dlogits(model, input_ids, edit) for name, edit in checks.items()}
    for name, d in diffs.items():
        if not d > 1e-2:
            fail(f"{cfg.model_type}: {name} barely changes the logits ({d:.3g})")
    return (f"    {cfg.model_type}: layer types {cfg.layer_types}, pattern exactly 0 outside window {window} on sliding "
            f"layers only; max |dlogits| without " + ", ".join(f"{k} {v:.3f}" for k, v in diffs.items()))


# --------------------------------------------------------------------------------------------------------------
def build_one(spec) -> list[str]:
    name, cls, family = spec["name"], spec["cls"], spec["family"]
    out_dir = OUT_ROOT / name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    notes = []

    torch.manual_seed(spec["seed"])
    model = cls(spec["config"]).eval()
    if model.config._attn_implementation != "eager":
        fail(f"{name}: attention implementation is {model.config._attn_implementation}")
    rerandomize(model, spec["seed"])
    vocab = model.config.vocab_size
    save_model(model, spec.get("save_dtype"), out_dir, spec)

    # Expectations always come from the checkpoint as written, reloaded in fp32 (for f16/bf16 this is the
    # rounded weights upcast to fp32). For fp32 checkpoints the reload must be bit-identical to the in-memory model.
    ref = hf_load(cls, out_dir)
    input_ids = rand_ids(vocab, (BATCH, T), spec["seed"] * 7 + 1)
    acts, out = run_with_hooks(ref, family, input_ids)
    if spec.get("save_dtype") is None:
        with torch.no_grad():
            check_close(f"{name}: reloaded vs in-memory logits", model(input_ids, use_cache=False).logits, acts["logits"], 0.0)
    else:
        with torch.no_grad():
            d = (model(input_ids, use_cache=False).logits - acts["logits"]).abs().max().item()
        notes.append(f"    {name}: max |dlogits| fp32 weights vs {spec['save_dtype']} weights = {d:.3g}")
    window = getattr(ref.config, "sliding_window", None)
    self_check(ref, family, acts, out, input_ids, window)
    if name == "llama3_rope_scaling":
        notes.append(probe_llama3(ref, input_ids))
    if name == "mistral_sliding":
        notes.append(probe_sliding(ref, acts, input_ids, window))
    if name in ("gemma2", "gemma3"):
        notes.append(probe_gemma(ref, acts, input_ids))

    meta = {"model": name, "generator": "tests/reference/make_model_goldens.py",
            "transformers_version": transformers.__version__, "torch_version": torch.__version__}
    tensors = {"input_ids": input_ids, **acts}
    a = arch(ref, family)
    expected_shapes = {
        "logits": (BATCH, T, vocab), "ln_final.out": (BATCH, T, ref.config.hidden_size),
    }
    for k, (want) in expected_shapes.items():
        if tuple(tensors[k].shape) != want:
            fail(f"{name}: {k} shape {tuple(tensors[k].shape)} != {want}")
    if tuple(tensors["blocks.0.attn.hook_k"].shape) != (BATCH, T, a["n_kv"], a["d_head"]):
        fail(f"{name}: hook_k shape")
    st_save(out_dir / "expected.safetensors", tensors, meta)

    # Right-padded batch.
    lengths = PADDED_LENGTHS
    Tp = max(lengths)
    ids = rand_ids(vocab, (BATCH, Tp), spec["seed"] * 7 + 2)
    mask = torch.zeros(BATCH, Tp, dtype=torch.int64)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
        ids[b, n:] = PAD_ID
    with torch.no_grad():
        logits_p = ref(input_ids=ids, attention_mask=mask, use_cache=False).logits.float()
        for b, n in enumerate(lengths):   # valid positions must equal an unpadded run of that prompt alone
            alone = ref(input_ids=ids[b:b + 1, :n], use_cache=False).logits.float()
            check_close(f"{name}: padded row {b} vs alone", logits_p[b:b + 1, :n], alone)
    st_save(out_dir / "expected_padded.safetensors",
            {"input_ids": ids, "attention_mask": mask, "logits": logits_p},
            {**meta, "pad_id": PAD_ID, "lengths": ",".join(map(str, lengths)), "padding_side": "right"})
    return notes


README_HEAD = """# Golden files: tiny Hugging Face models

Generated by `tests/reference/make_model_goldens.py` (do not edit by hand; re-run the script instead; its
docstring says how to set up the venv). transformers {tv}, torch {pv}, CPU, fp32, eager attention.
Every parameter is random (seeded) and re-randomised after init, norm gains (1 + N(0, 0.1)) and biases
(N(0, 0.1)) included, so gains and biases are exercised. No tokenizer files: inputs are token ids.

Each folder holds `config.json`, `generation_config.json` and the weights exactly as `save_pretrained` writes them
(tied embeddings are NOT in the file: `lm_head.weight` is absent when `tie_word_embeddings` is true), plus
`expected.safetensors` and `expected_padded.safetensors`.

Loader notes (transformers 5.x): RoPE settings are in `rope_parameters` (`rope_type`, `rope_theta`,
`partial_rotary_factor` for GPT-NeoX, the llama3 keys); checkpoints saved by transformers 4.x use `rope_theta` /
`rope_scaling` (Llama family) and `rotary_pct` / `rotary_emb_base` (GPT-NeoX) at top level instead. GPT-2 keys
carry the `transformer.` prefix here (hub GPT-2 checkpoints often have none) and Conv1D weights are [in, out].

## Models

| name | what |
| --- | --- |
"""

README_TAIL = """
## expected.safetensors

Batch 2 x T = {T} random token ids (seeded, never 0), no padding, no KV cache. All float tensors f32.
TransformerLens hook names; `L` = layer index (0, 1). `H` = attention heads, `KV` = key/value heads,
`Dh` = head dim, `d_mlp` = MLP hidden size.

| tensor | shape | meaning (HF source) |
| --- | --- | --- |
| `input_ids` | int64 [2, T] | input tokens |
| `logits` | [2, T, vocab] | model output |
| `blocks.L.hook_resid_pre` | [2, T, d_model] | input of decoder layer L (= HF `hidden_states[L]`) |
| `blocks.L.hook_resid_post` | [2, T, d_model] | output of decoder layer L (forward hook; for the last layer this is BEFORE the final norm, unlike HF `hidden_states[-1]`) |
| `blocks.L.hook_attn_out` | [2, T, d_model] | attention module output, incl. output projection bias (Gemma 2/3: the output of `post_attention_layernorm`, i.e. what is added to the residual stream) |
| `blocks.L.hook_mlp_out` | [2, T, d_model] | MLP module output, incl. bias (Gemma 2/3: the output of `post_feedforward_layernorm`) |
| `blocks.L.ln1_post.hook_normalized`, `blocks.L.ln2_post.hook_normalized` | [2, T, d_model] | Gemma 2/3 only: the input of `post_attention_layernorm` / `post_feedforward_layernorm` RMS-normalised, x * rsqrt(mean(x^2) + eps), before the (1 + w) gain |
| `blocks.L.attn.q_norm.hook_normalized`, `blocks.L.attn.k_norm.hook_normalized` | [2, T, H or KV, Dh] | Gemma 3 only: q_proj / k_proj output RMS-normalised per head over Dh, before the (1 + w) gain and RoPE |
| `blocks.L.mlp.hook_post` | [2, T, d_mlp] | input of the MLP down projection (GPT-2 `mlp.c_proj`, NeoX `mlp.dense_4h_to_h`, Llama family `mlp.down_proj`): act(fc(x)) or act(gate(x)) * up(x) |
| `blocks.L.attn.hook_q` | [2, T, H, Dh] | query projection output incl. bias, BEFORE RoPE |
| `blocks.L.attn.hook_k` | [2, T, KV, Dh] | key projection output incl. bias, BEFORE RoPE, KV heads not expanded |
| `blocks.L.attn.hook_v` | [2, T, KV, Dh] | value projection output incl. bias |
| `blocks.L.attn.hook_pattern` | [2, H, T, T] | post-softmax attention (HF `output_attentions=True`); exactly 0 on masked entries |
| `blocks.L.attn.hook_z` | [2, T, H, Dh] | input of the attention output projection (GPT-2 `attn.c_proj`, NeoX `attention.dense`, Llama family `o_proj`) reshaped per head |
| `ln_final.out` | [2, T, d_model] | final norm output incl. gain/bias (= HF `hidden_states[-1]`); named `.out`, not `hook_normalized`, because TransformerLens's `hook_normalized` is before the gain |

q/k/v splits: GPT-2 `c_attn` output is [q | k | v] (each H x Dh). GPT-NeoX `query_key_value` output is laid out
per head, [head][q | k | v][Dh] (`modeling_gpt_neox.py`: `.view(..., -1, 3 * head_size)` then `.chunk(3, -1)`), so
its weight rows are grouped per head, not q-block / k-block / v-block. RoPE (all rotary models here) rotates
halves: (x[i], x[i + rot/2]) for i < rot/2 over the first `rot` = head_dim * partial_rotary_factor dims.

The script checks, before writing: resid_post[L] == resid_pre[L+1]; resid_post = resid_pre + attn_out + mlp_out;
pattern and z recomputed from hook_q/k/v (own RoPE, GQA repeat, causal/sliding mask; for Gemma the module's q/k
norms, per-layer RoPE tables and windows, `scaling` and attention soft cap) match HF to 2e-5;
logits = ln_final.out @ W_U^T (then the final soft cap, Gemma 2); the reloaded checkpoint reproduces the in-memory
model bit for bit (fp32 ones). For Gemma 2/3 it also checks that sliding layers give exactly 0 attention outside the
window and global ones do not, and that each Gemma-specific setting (window, query_pre_attn_scalar, soft caps, local
RoPE base, global rope scaling) changes the logits by more than 1e-2.

## expected_padded.safetensors

| tensor | shape | meaning |
| --- | --- | --- |
| `input_ids` | int64 [2, {Tp}] | two prompts of lengths {lengths}, right-padded with id {pad} |
| `attention_mask` | int64 [2, {Tp}] | 1 = real token, 0 = padding |
| `logits` | [2, {Tp}, vocab] | HF logits with that mask; only positions where attention_mask is 1 matter (checked to equal each prompt run alone, to 2e-5) |

Positions are 0..T-1 for both rows (right padding needs no position shift).
"""


LLAVA_MARK = "## LLaVA models (make_llava_goldens.py)"


def write_readme() -> None:
    lines = [README_HEAD.format(tv=transformers.__version__, pv=torch.__version__)]
    for spec in SPECS:
        lines.append(f"| `{spec['name']}` | {spec['what']} |\n")
    lines.append(README_TAIL.format(T=T, Tp=max(PADDED_LENGTHS), lengths=" and ".join(map(str, PADDED_LENGTHS)),
                                    pad=PAD_ID))
    readme = OUT_ROOT / "README.md"
    old = readme.read_text() if readme.exists() else ""
    if LLAVA_MARK in old:   # make_llava_goldens.py's section stays
        lines.append("\n" + old[old.index(LLAVA_MARK):])
    readme.write_text("".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these models (default: all)")
    args = parser.parse_args()
    names = [spec["name"] for spec in SPECS]
    for n in args.only or []:
        if n not in names:
            raise SystemExit(f"unknown model {n!r}; choose from {', '.join(names)}")
    t0 = time.time()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    notes = []
    for spec in SPECS:
        if args.only and spec["name"] not in args.only:
            continue
        notes += build_one(spec)
        files = sorted((OUT_ROOT / spec["name"]).iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"  {spec['name']:<22} {size / 1024:7.1f} KiB  " + " ".join(f.name for f in files))
    write_readme()
    total = sum(f.stat().st_size for f in OUT_ROOT.rglob("*") if f.is_file())
    print("\n".join(notes))
    print(f"total {total / 1024:.1f} KiB in {OUT_ROOT.relative_to(REPO)}, {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
