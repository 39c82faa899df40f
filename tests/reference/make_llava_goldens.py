#!/usr/bin/env python3
"""Golden files for LLaVA (CLIP vision tower + projector + Llama) in the C++ model host.

Tiny random-init `LlavaForConditionalGeneration` models and their expected activations:

    tests/golden/models/<name>/config.json               LlavaConfig as written by save_pretrained
                                                          (text_config / vision_config nested)
    tests/golden/models/<name>/model.safetensors         weights as written by save_pretrained (key names: README)
    tests/golden/models/<name>/generation_config.json    as written by save_pretrained (unused)
    tests/golden/models/<name>/preprocessor_config.json  CLIPImageProcessor config (non-default mean / std)
    tests/golden/models/<name>/expected.safetensors      raw_image, pixel_values, input_ids, logits, image_features,
                                                          vision.* and blocks.* activations

Python is reference tooling only; the C++ tests never run it. Re-run it only to regenerate these goldens.
Setup as in make_model_goldens.py, plus Pillow (CLIPImageProcessor's default backend needs torchvision, which has
no wheel for this torch; the Pillow backend `CLIPImageProcessorPil` is used instead, see PREPROCESSING below):

    .venv/bin/pip install torch transformers safetensors pillow
    .venv/bin/python tests/reference/make_llava_goldens.py        # from the repository root

Deterministic (fixed seeds, CPU, fp32, eager attention, one thread); byte-identical on re-run. It self-checks what it
writes and exits non-zero on failure: the processor output equals a hand-written rescale + normalise bit for bit; a
from-scratch CLIP vision forward reproduces every vision hook; image_features = projector(selected hidden state);
the text model's input embeddings are the token embeddings with the image-token rows replaced by image_features
(masked_scatter); the text part equals a plain LlamaForCausalLM fed those embeddings; the reloaded checkpoint (and
copies of it renamed to the hub / in-memory key layouts) reproduce the logits bit for bit.

It also (re)writes the "LLaVA models" section at the end of tests/golden/models/README.md. make_model_goldens.py
rewrites that README from scratch, so run this script AFTER it.
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import (  # noqa: E402
    CLIPVisionConfig,
    LlamaConfig,
    LlamaForCausalLM,
    LlavaConfig,
    LlavaForConditionalGeneration,
)
from transformers.utils import logging as hf_logging  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_io import save_golden  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]
OUT_ROOT = REPO / "tests" / "golden" / "models"
README = OUT_ROOT / "README.md"
README_MARK = "## LLaVA models (make_llava_goldens.py)"

BATCH = 2
N_TEXT = 6                  # random text ids after the image tokens
CHECK_TOL = 2e-5            # fp32 consistency checks, same machine
IMAGE = 32                  # image side S
PATCH = 8                   # -> (32/8)^2 = 16 patches, 17 vision positions with the class token
VOCAB = 120
IMAGE_TOKEN = VOCAB - 1     # 119, the last id
BOS = 1                     # LlamaConfig default bos_token_id

VISION = dict(image_size=IMAGE, patch_size=PATCH, num_channels=3, hidden_size=32, num_hidden_layers=2,
              num_attention_heads=4, intermediate_size=64, hidden_act="quick_gelu", layer_norm_eps=1e-5,
              projection_dim=16, attention_dropout=0.0)
TEXT = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, tie_word_embeddings=False,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0})

SPECS = [
    dict(name="llava_tiny", seed=201, feature_layer=-2, strategy="default", projector_bias=True,
         image_mean=[0.52, 0.41, 0.33], image_std=[0.23, 0.29, 0.19],
         what="vision_feature_layer -2 (= output of encoder layer 0 of 2, i.e. the input of the last layer), "
              "select strategy \"default\" (class token dropped: 16 image tokens), projector with biases."),
    dict(name="llava_full_layer_last", seed=202, feature_layer=-1, strategy="full", projector_bias=False,
         image_mean=[0.45, 0.55, 0.50], image_std=[0.30, 0.21, 0.26],
         what="vision_feature_layer -1 (= output of the last encoder layer, post_layernorm NOT applied), select "
              "strategy \"full\" (class token kept: 17 image tokens, class token first), multimodal_projector_bias "
              "false (no linear_1/linear_2 bias in the file)."),
]


# --------------------------------------------------------------------------------------------------------------
def fail(msg: str) -> None:
    raise SystemExit(f"CHECK FAILED: {msg}")


def check_close(name: str, a: torch.Tensor, b: torch.Tensor, tol: float = CHECK_TOL) -> float:
    if tuple(a.shape) != tuple(b.shape):
        fail(f"{name}: shape {tuple(a.shape)} vs {tuple(b.shape)}")
    err = (a.double() - b.double()).abs().max().item()
    if not err <= tol:
        fail(f"{name}: max abs err {err:.3g} > {tol:g}")
    return err


def make_config(spec) -> LlavaConfig:
    n_img = n_image_tokens(spec)
    return LlavaConfig(
        vision_config=CLIPVisionConfig(**VISION), text_config=LlamaConfig(**TEXT),
        image_token_index=IMAGE_TOKEN, image_seq_length=n_img, projector_hidden_act="gelu",
        vision_feature_layer=spec["feature_layer"], vision_feature_select_strategy=spec["strategy"],
        multimodal_projector_bias=spec["projector_bias"], tie_word_embeddings=False, attn_implementation="eager")


def n_image_tokens(spec) -> int:
    n = (IMAGE // PATCH) ** 2
    return n + 1 if spec["strategy"] == "full" else n


@torch.no_grad()
def rerandomize(model: torch.nn.Module, seed: int) -> None:
    """Every parameter re-drawn (same scheme as make_model_goldens.py, extended to the vision tower):
    embeddings (token, position, CLIP class embedding): N(0, 0.3); matrices and the conv patch embedding:
    N(0, 1/sqrt(fan_in)) (conv fan_in = C*P*P); norm gains 1 + N(0, 0.1); biases N(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        mod = model.get_submodule(name.rsplit(".", 1)[0])
        if name.endswith("class_embedding"):
            vals = torch.randn(p.shape, generator=g) * 0.3
        elif p.ndim == 1:
            if name.endswith("bias"):
                vals = torch.randn(p.shape, generator=g) * 0.1
            else:
                vals = 1.0 + torch.randn(p.shape, generator=g) * 0.1
        elif isinstance(mod, torch.nn.Embedding):
            vals = torch.randn(p.shape, generator=g) * 0.3
        else:
            fan_in = int(np.prod(p.shape[1:]))
            vals = torch.randn(p.shape, generator=g) / math.sqrt(fan_in)
        p.copy_(vals.to(p.dtype))


def first(x):
    return x[0] if isinstance(x, (tuple, list)) else x


# --------------------------------------------------------------------------------------------------------------
# Preprocessing
# --------------------------------------------------------------------------------------------------------------
def make_processor(spec):
    """CLIPImageProcessor settings for the tiny image size. The Pillow backend class is used because the default
    (torchvision) backend cannot be installed next to this torch; its to_dict() writes image_processor_type
    "CLIPImageProcessor", so the saved file is the same as the default class would write for these settings."""
    from transformers import CLIPImageProcessorPil
    return CLIPImageProcessorPil(
        do_resize=True, size={"shortest_edge": IMAGE}, resample=3, do_center_crop=True,
        crop_size={"height": IMAGE, "width": IMAGE}, do_rescale=True, rescale_factor=1 / 255,
        do_normalize=True, image_mean=spec["image_mean"], image_std=spec["image_std"], do_convert_rgb=True)


def preprocess(spec, proc, raw: torch.Tensor) -> tuple[torch.Tensor, list[str]]:
    """raw uint8 [B, S, S, 3] -> pixel_values f32 [B, 3, S, S], with checks against hand-written formulas."""
    notes = []
    pv = proc(images=[r.numpy() for r in raw], return_tensors="pt")["pixel_values"]
    if pv.dtype != torch.float32 or tuple(pv.shape) != (BATCH, 3, IMAGE, IMAGE):
        fail(f"processor output {pv.dtype} {tuple(pv.shape)}")
    x = raw.permute(0, 3, 1, 2)                                    # HWC -> CHW, no resize / crop at 32x32
    mean = torch.tensor(spec["image_mean"], dtype=torch.float32)[None, :, None, None]
    std = torch.tensor(spec["image_std"], dtype=torch.float32)[None, :, None, None]
    # Pillow backend (transformers.image_transforms.rescale / normalize):
    #   f32(f64(u8) * (1/255)), then (x - f32(mean)) / f32(std) in f32
    pil_formula = ((x.double() * (1 / 255)).float() - mean) / std
    check_close(f"{spec['name']}: processor vs rescale-in-f64 + normalise-in-f32", pv, pil_formula, 0.0)
    # Other ways a loader might compute it (for the tolerance a C++ test needs):
    tv_fused = (x.float() - torch.tensor(spec["image_mean"]).mul(255.0)[None, :, None, None]) / \
        torch.tensor(spec["image_std"]).mul(255.0)[None, :, None, None]     # torchvision backend (fused)
    f32_plain = (x.float() / 255.0 - mean) / std
    f64_exact = ((x.double() / 255.0 - torch.tensor(spec["image_mean"], dtype=torch.float64)[None, :, None, None])
                 / torch.tensor(spec["image_std"], dtype=torch.float64)[None, :, None, None])
    d_tv = (pv.double() - tv_fused.double()).abs().max().item()
    d_f32 = (pv.double() - f32_plain.double()).abs().max().item()
    d_f64 = (pv.double() - f64_exact).abs().max().item()
    for n, d in (("torchvision fused", d_tv), ("f32 x/255", d_f32), ("f64 exact", d_f64)):
        if not d < 1e-5:
            fail(f"{spec['name']}: processor vs {n} differ by {d:.3g}")
    notes.append(f"    {spec['name']}: pixel_values == Pillow-backend formula exactly; max |diff| vs torchvision fused "
                 f"{d_tv:.2g}, vs f32 (x/255-mean)/std {d_f32:.2g}, vs f64 exact {d_f64:.2g}")
    # The default (torchvision) backend, when installed, must agree to within rounding. Without torchvision,
    # transformers 5.24 silently substitutes CLIPImageProcessorPil for CLIPImageProcessor.
    from transformers import CLIPImageProcessor
    if "Pil" in CLIPImageProcessor.__name__:
        notes.append(f"    {spec['name']}: torchvision not installed (CLIPImageProcessor falls back to the Pillow "
                     "backend), torchvision-backend comparison skipped")
    else:
        tv = CLIPImageProcessor(**{k: v for k, v in proc.to_dict().items()
                                   if k in ("do_resize", "size", "resample", "do_center_crop", "crop_size",
                                            "do_rescale", "rescale_factor", "do_normalize", "image_mean",
                                            "image_std", "do_convert_rgb")})
        pv_tv = tv(images=[r.numpy() for r in raw], return_tensors="pt")["pixel_values"]
        check_close(f"{spec['name']}: torchvision-backend processor", pv_tv, pv, 1e-5)
        notes.append(f"    {spec['name']}: torchvision-backend CLIPImageProcessor agrees to 1e-5")
    return pv, notes


# --------------------------------------------------------------------------------------------------------------
# Forward with hooks
# --------------------------------------------------------------------------------------------------------------
@torch.no_grad()
def run_with_hooks(model, input_ids, pixel_values):
    vt = model.model.vision_tower
    lm = model.model.language_model
    acts: dict[str, torch.Tensor] = {}
    internal: dict[str, torch.Tensor] = {}
    handles = []

    def save(name, t, store=acts):
        if name in store:
            fail(f"hook {name} fired twice")
        store[name] = t.detach().to(torch.float32).clone()

    handles.append(vt.embeddings.register_forward_hook(lambda m, a, o: save("vision.hook_embed", o)))
    handles.append(vt.pre_layrnorm.register_forward_hook(lambda m, a, o: save("vision.ln_pre", o, internal)))
    for L, layer in enumerate(vt.encoder.layers):
        p = f"vision.blocks.{L}."
        handles += [
            layer.register_forward_pre_hook(
                lambda m, a, k, p=p: save(p + "hook_resid_pre", a[0] if a else k["hidden_states"]), with_kwargs=True),
            layer.register_forward_hook(lambda m, a, o, p=p: save(p + "hook_resid_post", first(o))),
            layer.self_attn.register_forward_hook(lambda m, a, o, p=p: save(p + "hook_attn_out", first(o))),
            layer.mlp.register_forward_hook(lambda m, a, o, p=p: save(p + "hook_mlp_out", first(o))),
        ]
    def projector(mod, args, out):   # (a hook that returns something would replace the module output)
        save("projector_in", args[0], internal)
        save("image_features", out)
    handles.append(model.model.multi_modal_projector.register_forward_hook(projector))
    handles.append(lm.register_forward_pre_hook(
        lambda m, a, k: save("inputs_embeds", k["inputs_embeds"], internal), with_kwargs=True))
    for L, layer in enumerate(lm.layers):
        p = f"blocks.{L}."
        handles += [
            layer.register_forward_pre_hook(
                lambda m, a, k, p=p: save(p + "hook_resid_pre", a[0] if a else k["hidden_states"]), with_kwargs=True),
            layer.register_forward_hook(lambda m, a, k, o, p=p: save(p + "hook_resid_post", first(o)),
                                        with_kwargs=True),
            layer.self_attn.register_forward_hook(lambda m, a, o, p=p: save(p + "hook_attn_out", first(o))),
            layer.mlp.register_forward_hook(lambda m, a, o, p=p: save(p + "hook_mlp_out", first(o))),
        ]
    handles.append(lm.norm.register_forward_hook(lambda m, a, o: save("ln_final.out", first(o))))
    try:
        out = model(input_ids=input_ids, pixel_values=pixel_values, output_hidden_states=True,
                    output_attentions=True, use_cache=False)
    finally:
        for h in handles:
            h.remove()

    n_text = model.config.text_config.num_hidden_layers
    n_vis = model.config.vision_config.num_hidden_layers
    if len(out.attentions) != n_text or len(out.image_outputs.attentions) != n_vis:
        fail(f"attentions: {len(out.attentions)} text, {len(out.image_outputs.attentions)} vision")
    for L, pat in enumerate(out.image_outputs.attentions):
        acts[f"vision.blocks.{L}.attn.hook_pattern"] = pat.detach().float().clone()
    for L, pat in enumerate(out.attentions):
        acts[f"blocks.{L}.attn.hook_pattern"] = pat.detach().float().clone()
    acts["logits"] = out.logits.detach().float().clone()
    return acts, internal, out


def layer_norm(x, ln):
    return F.layer_norm(x, (x.shape[-1],), ln.weight, ln.bias, ln.eps)


@torch.no_grad()
def clip_vision_reference(vt, pixel_values):
    """From-scratch CLIP vision forward (the spec the C++ side implements). Returns per-stage tensors."""
    cfg = vt.config
    B, C, S, _ = pixel_values.shape
    P, D, H = cfg.patch_size, cfg.hidden_size, cfg.num_attention_heads
    Dh, g = D // H, S // P
    r = {}
    # Patch embedding = Conv2d(C, D, kernel P, stride P, no bias) == matmul over flattened patches, patches in
    # row-major order (patch index = row * g + col), patch vector flattened as [C][P(y)][P(x)] like the conv weight.
    patches = pixel_values.reshape(B, C, g, P, g, P).permute(0, 2, 4, 1, 3, 5).reshape(B, g * g, C * P * P)
    patch_emb = patches @ vt.embeddings.patch_embedding.weight.reshape(D, -1).T
    cls = vt.embeddings.class_embedding.reshape(1, 1, D).expand(B, 1, D)
    # position ids 0..g*g: row 0 of position_embedding goes to the class token, row 1+i to patch i
    emb = torch.cat([cls, patch_emb], dim=1) + vt.embeddings.position_embedding.weight[None]
    r["vision.hook_embed"] = emb
    h = layer_norm(emb, vt.pre_layrnorm)            # "pre_layrnorm" (sic): applied BEFORE the encoder
    for L, layer in enumerate(vt.encoder.layers):
        p = f"vision.blocks.{L}."
        r[p + "hook_resid_pre"] = h
        a = layer_norm(h, layer.layer_norm1)
        sa = layer.self_attn
        q, k, v = (F.linear(a, m.weight, m.bias).reshape(B, -1, H, Dh).transpose(1, 2)
                   for m in (sa.q_proj, sa.k_proj, sa.v_proj))
        pattern = ((q @ k.transpose(-1, -2)) * Dh ** -0.5).softmax(-1)   # no mask, no causality
        r[p + "attn.hook_pattern"] = pattern
        z = (pattern @ v).transpose(1, 2).reshape(B, -1, D)
        attn_out = F.linear(z, sa.out_proj.weight, sa.out_proj.bias)
        r[p + "hook_attn_out"] = attn_out
        h = h + attn_out
        m = layer_norm(h, layer.layer_norm2)
        m = F.linear(m, layer.mlp.fc1.weight, layer.mlp.fc1.bias)
        m = m * torch.sigmoid(1.702 * m)               # quick_gelu
        mlp_out = F.linear(m, layer.mlp.fc2.weight, layer.mlp.fc2.bias)
        r[p + "hook_mlp_out"] = mlp_out
        h = h + mlp_out
        r[p + "hook_resid_post"] = h
    return r


@torch.no_grad()
def self_check(spec, model, acts, internal, out, input_ids, pixel_values) -> list[str]:
    name = spec["name"]
    notes = []
    cfg = model.config
    vt = model.model.vision_tower
    lm = model.model.language_model
    n_vis = cfg.vision_config.num_hidden_layers
    n_text = cfg.text_config.num_hidden_layers

    # --- vision tower
    ref = clip_vision_reference(vt, pixel_values)
    for k, v in ref.items():
        check_close(f"{name}: {k} (from-scratch CLIP)", acts[k], v)
    check_close(f"{name}: pre_layrnorm(hook_embed) == blocks.0.hook_resid_pre",
                layer_norm(acts["vision.hook_embed"], vt.pre_layrnorm), acts["vision.blocks.0.hook_resid_pre"])
    check_close(f"{name}: ln_pre output == vision resid_pre 0", internal["vision.ln_pre"],
                acts["vision.blocks.0.hook_resid_pre"], 0.0)
    hs = out.image_outputs.hidden_states
    if len(hs) != n_vis + 1:
        fail(f"{name}: {len(hs)} vision hidden_states")
    for L in range(n_vis):
        p = f"vision.blocks.{L}."
        check_close(f"{name}: {p}resid_pre == image hidden_states[{L}]", acts[p + "hook_resid_pre"], hs[L], 0.0)
        check_close(f"{name}: {p}resid_post = pre + attn + mlp", acts[p + "hook_resid_post"],
                    acts[p + "hook_resid_pre"] + acts[p + "hook_attn_out"] + acts[p + "hook_mlp_out"])
        if L + 1 < n_vis:
            check_close(f"{name}: {p}resid_post == next resid_pre", acts[p + "hook_resid_post"],
                        acts[f"vision.blocks.{L + 1}.hook_resid_pre"], 0.0)
    last = acts[f"vision.blocks.{n_vis - 1}.hook_resid_post"]
    check_close(f"{name}: image hidden_states[-1] == last layer output (no post_layernorm)", hs[-1], last, 0.0)
    if not (layer_norm(last, vt.post_layernorm) - last).abs().max() > 0.1:
        fail(f"{name}: post_layernorm is ~identity, the check above proves nothing")

    # --- feature selection + projector
    fl = cfg.vision_feature_layer
    sel_idx = fl % (n_vis + 1)           # index into [emb-after-pre_layrnorm, out L0, out L1, ...]
    selected = acts[f"vision.blocks.{sel_idx - 1}.hook_resid_post"] if sel_idx > 0 else \
        acts["vision.blocks.0.hook_resid_pre"]
    if cfg.vision_feature_select_strategy == "default":
        selected = selected[:, 1:]
    check_close(f"{name}: projector input == selected vision state", internal["projector_in"], selected, 0.0)
    pr = model.model.multi_modal_projector
    x = F.linear(selected, pr.linear_1.weight, pr.linear_1.bias)
    if (F.gelu(x) - pr.act(x)).abs().max() != 0 or (F.gelu(x, approximate="tanh") - pr.act(x)).abs().max() == 0:
        fail(f"{name}: projector gelu is not the exact (erf) gelu")
    feats = F.linear(F.gelu(x), pr.linear_2.weight, pr.linear_2.bias)
    check_close(f"{name}: image_features = linear_2(gelu(linear_1(selected)))", acts["image_features"], feats)
    pooled = torch.stack(list(out.image_outputs.pooler_output))
    check_close(f"{name}: image_features == image_outputs.pooler_output", acts["image_features"], pooled, 0.0)
    if (pr.linear_1.bias is None) == spec["projector_bias"]:
        fail(f"{name}: projector bias presence")
    notes.append(f"    {name}: vision_feature_layer {fl} -> hidden_states index {sel_idx} of {n_vis + 1} "
                 f"(= {'embeddings after pre_layrnorm' if sel_idx == 0 else f'output of encoder layer {sel_idx - 1}'}), "
                 f"strategy {cfg.vision_feature_select_strategy} -> {selected.shape[1]} features, no post_layernorm")
    # with the layer's post-layernorm it would be different:
    alt = pr(layer_norm(selected, vt.post_layernorm))
    if not (alt - acts["image_features"]).abs().max() > 1e-2:
        fail(f"{name}: post_layernorm would not change image_features (test is blind)")

    # --- merge: image-token rows of the token embeddings replaced (not added) by image_features, in order
    emb = lm.embed_tokens(input_ids)
    merged = emb.clone()
    for b in range(BATCH):
        pos = (input_ids[b] == cfg.image_token_id).nonzero().flatten()
        if len(pos) != acts["image_features"].shape[1]:
            fail(f"{name}: row {b} has {len(pos)} image tokens")
        merged[b, pos] = acts["image_features"][b]
    check_close(f"{name}: inputs_embeds == merged", internal["inputs_embeds"], merged, 0.0)
    check_close(f"{name}: text resid_pre 0 == merged", acts["blocks.0.hook_resid_pre"], merged, 0.0)
    # the image token's own embedding row must not matter (replace, not add)
    saved = lm.embed_tokens.weight[cfg.image_token_id].clone()
    lm.embed_tokens.weight[cfg.image_token_id] += 5.0
    d = (model(input_ids=input_ids, pixel_values=pixel_values, use_cache=False).logits - acts["logits"]).abs().max()
    lm.embed_tokens.weight[cfg.image_token_id] = saved
    if d != 0:
        fail(f"{name}: the image token embedding row leaks into the output ({d:.3g})")

    # --- text model == plain Llama on the merged embeddings
    hs_t = out.hidden_states
    if len(hs_t) != n_text + 1:
        fail(f"{name}: {len(hs_t)} text hidden_states")
    for L in range(n_text):
        p = f"blocks.{L}."
        check_close(f"{name}: {p}resid_pre == hidden_states[{L}]", acts[p + "hook_resid_pre"], hs_t[L], 0.0)
        check_close(f"{name}: {p}resid_post = pre + attn + mlp", acts[p + "hook_resid_post"],
                    acts[p + "hook_resid_pre"] + acts[p + "hook_attn_out"] + acts[p + "hook_mlp_out"])
        if L + 1 < n_text:
            check_close(f"{name}: {p}resid_post == next resid_pre", acts[p + "hook_resid_post"],
                        acts[f"blocks.{L + 1}.hook_resid_pre"], 0.0)
        pat = acts[p + "attn.hook_pattern"]
        Tn = pat.shape[-1]
        if pat[..., torch.ones(Tn, Tn, dtype=torch.bool).triu(1)].abs().max() != 0:
            fail(f"{name}: text attention not causal (image tokens attend causally too)")
    check_close(f"{name}: ln_final.out == hidden_states[-1]", acts["ln_final.out"], hs_t[-1], 0.0)
    check_close(f"{name}: logits = ln_final.out @ lm_head^T", acts["ln_final.out"] @ model.lm_head.weight.T,
                acts["logits"])
    llama = LlamaForCausalLM(LlamaConfig.from_dict(cfg.text_config.to_dict(), attn_implementation="eager")).eval()
    sd = {f"model.{k}": v for k, v in lm.state_dict().items()}
    sd["lm_head.weight"] = model.lm_head.weight
    missing, unexpected = llama.load_state_dict(sd, strict=False)
    if [m for m in missing if "rotary" not in m] or unexpected:
        fail(f"{name}: llama state dict mismatch {missing} {unexpected}")
    lo = llama(inputs_embeds=merged, use_cache=False, output_attentions=True)
    check_close(f"{name}: plain Llama on merged embeddings", lo.logits, acts["logits"])
    for L in range(n_text):
        check_close(f"{name}: plain Llama pattern {L}", lo.attentions[L], acts[f"blocks.{L}.attn.hook_pattern"])

    # --- the default path (no output_* flags: HF then captures only the selected vision hidden state)
    plain = model(input_ids=input_ids, pixel_values=pixel_values, use_cache=False).logits
    check_close(f"{name}: logits without output_hidden_states", plain, acts["logits"], 0.0)
    return notes


# --------------------------------------------------------------------------------------------------------------
HUB_RENAMES = [   # what the llava-hf hub checkpoints (saved by transformers 4.x) look like, from the file as saved here
    (r"^vision_tower\.", "vision_tower.vision_model."),
]
V452_RENAMES = [  # transformers 4.52..4.x save_pretrained / newer hub uploads
    (r"^language_model\.lm_head\.", "lm_head."),
    (r"^language_model\.model\.", "model.language_model."),
    (r"^vision_tower\.", "model.vision_tower.vision_model."),
    (r"^multi_modal_projector\.", "model.multi_modal_projector."),
]
MEMORY_RENAMES = [  # transformers 5.x in-memory parameter names
    (r"^language_model\.lm_head\.", "lm_head."),
    (r"^language_model\.model\.", "model.language_model."),
    (r"^vision_tower\.", "model.vision_tower."),
    (r"^multi_modal_projector\.", "model.multi_modal_projector."),
]


@torch.no_grad()
def probe_key_layouts(spec, out_dir: Path, input_ids, pixel_values, logits) -> list[str]:
    """Reload copies of the checkpoint with the keys renamed to other layouts: all must load without missing or
    unexpected keys and give the same logits bit for bit (so a C++ loader should accept all of them)."""
    notes = []
    sd = load_file(str(out_dir / "model.safetensors"))
    for label, renames in (("legacy hub (vision_tower.vision_model.*, language_model.model.*)", HUB_RENAMES),
                           ("4.52+ (model.vision_tower.vision_model.*, model.language_model.*)", V452_RENAMES),
                           ("5.x in-memory (model.vision_tower.*, model.language_model.*)", MEMORY_RENAMES)):
        new = {}
        for k, v in sd.items():
            for pat, rep in renames:
                if re.match(pat, k):
                    k = re.sub(pat, rep, k)
                    break
            new[k] = v
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(out_dir / "config.json", tmp)
            save_file(new, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
            m, info = LlavaForConditionalGeneration.from_pretrained(
                tmp, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
        if any(info.get(k) for k in ("missing_keys", "unexpected_keys", "mismatched_keys")):
            fail(f"{spec['name']}: layout {label}: {info}")
        lg = m.eval()(input_ids=input_ids, pixel_values=pixel_values, use_cache=False).logits
        check_close(f"{spec['name']}: layout {label} logits", lg, logits, 0.0)
        notes.append(f"    {spec['name']}: key layout {label} loads (no missing/unexpected) with identical logits")
    return notes


def build_one(spec) -> list[str]:
    name = spec["name"]
    out_dir = OUT_ROOT / name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    notes = []

    torch.manual_seed(spec["seed"])
    model = LlavaForConditionalGeneration(make_config(spec)).eval()
    for c in (model.config, model.config.vision_config, model.config.text_config):
        if c._attn_implementation != "eager":
            fail(f"{name}: attention implementation {c._attn_implementation}")
    rerandomize(model, spec["seed"])
    model.save_pretrained(out_dir)
    proc = make_processor(spec)
    proc.save_pretrained(out_dir)
    pcfg = json.loads((out_dir / "preprocessor_config.json").read_text())
    if pcfg.get("image_processor_type") != "CLIPImageProcessor":
        fail(f"{name}: image_processor_type {pcfg.get('image_processor_type')}")

    # Inputs
    g = torch.Generator().manual_seed(spec["seed"] * 7 + 1)
    raw = torch.randint(0, 256, (BATCH, IMAGE, IMAGE, 3), generator=g, dtype=torch.int64).to(torch.uint8)
    pixel_values, pnotes = preprocess(spec, proc, raw)
    reloaded = type(proc).from_pretrained(out_dir)(images=[r.numpy() for r in raw], return_tensors="pt")
    check_close(f"{name}: processor reloaded from preprocessor_config.json", reloaded["pixel_values"], pixel_values,
                0.0)
    notes += pnotes
    n_img = n_image_tokens(spec)
    text = torch.randint(3, IMAGE_TOKEN, (BATCH, N_TEXT), generator=g, dtype=torch.int64)  # not pad/bos/eos/image
    input_ids = torch.cat([torch.full((BATCH, 1), BOS), torch.full((BATCH, n_img), IMAGE_TOKEN), text], dim=1)
    T = input_ids.shape[1]

    ref = LlavaForConditionalGeneration.from_pretrained(out_dir, dtype=torch.float32,
                                                        attn_implementation="eager").eval()
    acts, internal, out = run_with_hooks(ref, input_ids, pixel_values)
    with torch.no_grad():
        check_close(f"{name}: reloaded vs in-memory logits",
                    model(input_ids=input_ids, pixel_values=pixel_values, use_cache=False).logits, acts["logits"], 0.0)
    notes += self_check(spec, ref, acts, internal, out, input_ids, pixel_values)
    notes += probe_key_layouts(spec, out_dir, input_ids, pixel_values, acts["logits"])

    vc, tc = ref.config.vision_config, ref.config.text_config
    npos = 1 + (IMAGE // PATCH) ** 2
    shapes = {
        "raw_image": (BATCH, IMAGE, IMAGE, 3), "pixel_values": (BATCH, 3, IMAGE, IMAGE), "input_ids": (BATCH, T),
        "logits": (BATCH, T, VOCAB), "image_features": (BATCH, n_img, tc.hidden_size),
        "vision.hook_embed": (BATCH, npos, vc.hidden_size), "ln_final.out": (BATCH, T, tc.hidden_size),
    }
    for L in range(vc.num_hidden_layers):
        p = f"vision.blocks.{L}."
        for k in ("hook_resid_pre", "hook_resid_post", "hook_attn_out", "hook_mlp_out"):
            shapes[p + k] = (BATCH, npos, vc.hidden_size)
        shapes[p + "attn.hook_pattern"] = (BATCH, vc.num_attention_heads, npos, npos)
    for L in range(tc.num_hidden_layers):
        p = f"blocks.{L}."
        for k in ("hook_resid_pre", "hook_resid_post", "hook_attn_out", "hook_mlp_out"):
            shapes[p + k] = (BATCH, T, tc.hidden_size)
        shapes[p + "attn.hook_pattern"] = (BATCH, tc.num_attention_heads, T, T)
    tensors = {"raw_image": raw, "pixel_values": pixel_values, "input_ids": input_ids, **acts}
    if set(tensors) != set(shapes):
        fail(f"{name}: tensor set {sorted(set(tensors) ^ set(shapes))}")
    for k, want in shapes.items():
        if tuple(tensors[k].shape) != want:
            fail(f"{name}: {k} shape {tuple(tensors[k].shape)} != {want}")
    if raw.dtype != torch.uint8 or input_ids.dtype != torch.int64:
        fail(f"{name}: dtypes")
    meta = {"model": name, "generator": "tests/reference/make_llava_goldens.py",
            "transformers_version": transformers.__version__, "torch_version": torch.__version__,
            "image_token_id": IMAGE_TOKEN, "n_image_tokens": n_img, "bos_id": BOS}
    save_golden(out_dir / "expected.safetensors", tensors, meta)
    return notes


# --------------------------------------------------------------------------------------------------------------
def key_listing(out_dir: Path) -> list[tuple[str, list[int]]]:
    with safe_open(str(out_dir / "model.safetensors"), "pt") as f:
        return [(k, list(f.get_slice(k).get_shape())) for k in sorted(f.keys())]


README_SECTION = """{mark}

Generated by `tests/reference/make_llava_goldens.py` (this section is rewritten by it; make_model_goldens.py
rewrites the whole README, so run the LLaVA script after it). transformers {tv}, torch {pv}, CPU, fp32, eager
attention, one thread. `LlavaForConditionalGeneration` = CLIP vision tower (`CLIPVisionModel`) + 2-layer MLP
projector + Llama text model; every parameter re-randomised as above (CLIP class embedding N(0, 0.3), conv patch
embedding N(0, 1/sqrt(C*P*P))), LayerNorm gains and biases included.

| name | what |
| --- | --- |
{rows}

Common: image {S}x{S}, patch {P} ({G}x{G} = {NP} patches, {NPOS} vision positions with the class token), vision
hidden 32, 2 layers, 4 heads (head dim 8), intermediate 64, `quick_gelu`, LayerNorm eps 1e-5; text = Llama like
`llama_gqa` (d_model 32, 4 heads / 2 KV heads, head_dim 8, intermediate 80, RMSNorm 1e-5, rope_theta 10000,
untied) with vocab {V}; image token id {IT} (the last id); BOS id {BOS}; projector `gelu` (exact erf).

### Files

`config.json` (`model_type` "llava"): `text_config` (model_type "llama") and `vision_config` (model_type
"clip_vision_model") are nested dicts. The image token is stored as `image_token_index` only (`image_token_id` is an
alias in LlavaConfig.attribute_map and is not written; accept both). Also `image_seq_length` (= number of image
tokens, used by the HF processor only), `vision_feature_layer` (int; may be a list of ints in other checkpoints:
then the selected states are concatenated on the feature axis and linear_1's input is that many times wider),
`vision_feature_select_strategy` ("default" | "full"), `projector_hidden_act`, `multimodal_projector_bias`,
`tie_word_embeddings` (false).

`model.safetensors`: transformers 5.24 `save_pretrained` writes the LEGACY (4.x-style) top-level prefixes, not the
5.x in-memory names (`model.vision_tower.*`, `model.multi_modal_projector.*`, `model.language_model.*`,
`lm_head.weight`), and writes the vision tower WITHOUT the `vision_model.` level that the llava-hf hub checkpoints
have. Layouts seen in the wild, all of which transformers 5.24 loads into the same model (the script re-saves the
weights under layouts 1-3 and checks: no missing / unexpected keys, identical logits), so a loader should accept
all four:

1. legacy llava-hf hub (4.x before 4.52): `vision_tower.vision_model.{{embeddings,pre_layrnorm,encoder,post_layernorm}}.*`,
   `multi_modal_projector.*`, `language_model.model.*`, `language_model.lm_head.weight`;
2. 4.52+ saves: `model.vision_tower.vision_model.*`, `model.multi_modal_projector.*`, `model.language_model.*`
   (no inner `model.`), `lm_head.weight`;
3. 5.x in-memory names: as 2 but `model.vision_tower.*` without `vision_model.`;
4. what 5.24 writes here: as 1 but `vision_tower.*` without `vision_model.` (table below).

| part | keys as written here (layer 0 shown) |
| --- | --- |
{keys}

`post_layernorm` is in the file but is not used for LLaVA features (only CLIP's pooled output uses it).

`preprocessor_config.json`: `CLIPImageProcessor` (written with the Pillow backend class `CLIPImageProcessorPil`,
whose to_dict drops the "Pil" suffix; torchvision is not installed, and without it transformers 5.24 substitutes
`CLIPImageProcessorPil` for `CLIPImageProcessor` anyway): resize shortest_edge {S} (bicubic),
center crop {S}x{S}, rescale 1/255, normalise with per-model non-default `image_mean` / `image_std` (see the JSON),
convert RGB. The raw images are already {S}x{S}, so resize and crop are identities and only rescale + normalise
apply: pixel = (x / 255 - mean[c]) / std[c]. The Pillow backend computes f32(f64(x) * (1/255)) then
(v - f32(mean)) / f32(std) in f32, and the stored pixel_values equal that bit for bit (a plain f32
(x / 255 - mean) / std happened to match exactly too); the torchvision backend (fused: (f32(x) - 255*mean) /
(255*std)) and an exact f64 computation differ by up to ~4e-7 (see findings), so compare pixel_values computed from
`raw_image` with a tolerance of ~1e-6.

### expected.safetensors

Batch 2, no padding, no KV cache, float tensors f32. `N` = image tokens per image (16 for "default", 17 for "full"),
`T` = 1 + N + {NT} (23 / 24), `Np` = {NPOS} vision positions (class token first, then patches row-major),
`Dv` = 32 vision width, `d_text` = 32.

| tensor | shape | meaning |
| --- | --- | --- |
| `raw_image` | uint8 [2, S, S, 3] | random RGB image, HWC; CLIPImageProcessor(raw) == `pixel_values` exactly |
| `pixel_values` | [2, 3, S, S] | preprocessed (normalised) model input |
| `input_ids` | int64 [2, T] | BOS, then the image token id N times, then {NT} random text ids in [3, {IT}) — what the HF processor's `<image>` expansion produces |
| `logits` | [2, T, vocab] | model output |
| `vision.hook_embed` | [2, Np, Dv] | class + patch embeddings + position embeddings, BEFORE `pre_layrnorm` |
| `vision.blocks.L.hook_resid_pre` | [2, Np, Dv] | input of encoder layer L (= HF vision `hidden_states[L]`; L = 0 is `pre_layrnorm(hook_embed)`) |
| `vision.blocks.L.hook_resid_post` | [2, Np, Dv] | output of encoder layer L (last layer: no post_layernorm; = HF vision `hidden_states[-1]`) |
| `vision.blocks.L.hook_attn_out` | [2, Np, Dv] | self-attention output incl. out_proj bias |
| `vision.blocks.L.hook_mlp_out` | [2, Np, Dv] | MLP output incl. fc2 bias |
| `vision.blocks.L.attn.hook_pattern` | [2, 4, Np, Np] | post-softmax attention (no mask: bidirectional) |
| `image_features` | [2, N, d_text] | projector output = what replaces the image-token embeddings |
| `blocks.L.hook_resid_pre` | [2, T, d_text] | text decoder layer input; L = 0 is the merged embedding sequence |
| `blocks.L.hook_resid_post`, `blocks.L.hook_attn_out`, `blocks.L.hook_mlp_out`, `blocks.L.attn.hook_pattern`, `ln_final.out` | as in the table above | text model (Llama), causal over the whole sequence (image tokens included) |

Metadata: `image_token_id`, `n_image_tokens`, `bos_id`, versions.

### Forward (as checked by the script against a from-scratch implementation)

1. Vision embeddings: Conv2d(3, Dv, kernel P, stride P, no bias) = per patch, patch vector flattened [C][y][x]
   (the conv weight [Dv, 3, P, P] reshaped to [Dv, 3*P*P]); patches in row-major order. Prepend
   `embeddings.class_embedding` [Dv]; add `embeddings.position_embedding.weight` rows 0..Np-1 (position ids
   = arange, row 0 = class token, row 1 + i = patch i). -> `vision.hook_embed`.
2. `pre_layrnorm` (LayerNorm, eps 1e-5) -> encoder input (`hidden_states[0]`).
3. Each encoder layer (pre-LN): h += out_proj(attn(layer_norm1(h))); h += fc2(quick_gelu(fc1(layer_norm2(h)))).
   Attention: q/k/v/out_proj all with bias, heads = split of the last dim, scores = q k^T * head_dim^-0.5, no mask.
   quick_gelu(x) = x * sigmoid(1.702 x).
4. Feature selection: HF vision `hidden_states` = [encoder input (after pre_layrnorm), out layer 0, ..., out layer
   n-1] (n+1 entries); take `hidden_states[vision_feature_layer]` (-2 = output of the second-to-last layer = input
   of the last layer; -1 = output of the last layer). NO post_layernorm. Strategy "default" drops position 0 (the
   class token); "full" keeps all Np.
5. Projector: image_features = linear_2(gelu(linear_1(x))) (exact erf gelu; biases iff multimodal_projector_bias).
6. Merge: inputs_embeds = embed_tokens(input_ids), then `masked_scatter` at the positions where input_ids ==
   image_token_index: the image-token rows are REPLACED (the image token's own embedding row has no effect; checked)
   by image_features flattened over (image, feature) in order, i.e. row b's k-th image token gets
   image_features[b, k]. The number of image tokens must equal images x N.
7. Text: the plain Llama forward on inputs_embeds (positions 0..T-1, causal); checked equal to a standalone
   LlamaForCausalLM with the same weights given those embeddings. Logits = lm_head(norm(h)).

Script findings:
{notes}
"""


def write_readme(notes: list[str]) -> None:
    text = README.read_text() if README.exists() else ""
    if README_MARK in text:
        text = text[:text.index(README_MARK)].rstrip("\n") + "\n"
    rows = "\n".join(f"| `{s['name']}` | {s['what']} |" for s in SPECS)
    listing = key_listing(OUT_ROOT / SPECS[0]["name"])
    groups = [("vision embeddings", r"^vision_tower\.embeddings\."),
              ("vision norms", r"^vision_tower\.(pre_layrnorm|post_layernorm)\."),
              ("vision layer", r"^vision_tower\.encoder\.layers\.0\."),
              ("projector", r"^multi_modal_projector\."),
              ("text embedding / final norm / head", r"^language_model\.(model\.(embed_tokens|norm)|lm_head)\."),
              ("text layer", r"^language_model\.model\.layers\.0\.")]
    keys = "\n".join(
        f"| {label} | " + ", ".join(f"`{k}` {tuple(s)}" for k, s in listing if re.match(pat, k)) + " |"
        for label, pat in groups)
    covered = [k for k, _ in listing if any(re.match(p, k) for _, p in groups) or ".layers.1." in k]
    if len(covered) != len(listing):
        fail("README key table misses keys: " + str(sorted(set(k for k, _ in listing) - set(covered))))
    section = README_SECTION.format(
        mark=README_MARK, tv=transformers.__version__, pv=torch.__version__, rows=rows, S=IMAGE, P=PATCH,
        G=IMAGE // PATCH, NP=(IMAGE // PATCH) ** 2, NPOS=1 + (IMAGE // PATCH) ** 2, V=VOCAB, IT=IMAGE_TOKEN, BOS=BOS,
        NT=N_TEXT, keys=keys, notes="\n".join(n.strip() and "- " + n.strip() for n in notes))
    README.write_text(text + "\n" + section)


def main() -> int:
    t0 = time.perf_counter()
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    notes = []
    for spec in SPECS:
        notes += build_one(spec)
        files = sorted((OUT_ROOT / spec["name"]).iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"  {spec['name']:<22} {size / 1024:7.1f} KiB  " + " ".join(f.name for f in files))
    write_readme(notes)
    print("\n".join(notes))
    print(f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
