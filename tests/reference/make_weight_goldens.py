#!/usr/bin/env python3
"""Golden files for the C++ weight-space probes (issue 9): weight processing, LM-head neuron decoding, head SVD,
copying scores, composition scores, Talking-Heads channels.

What it writes (tensor list and conventions in tests/golden/weights/README.md, which this script rewrites):

    tests/golden/weights/<model>/inputs.json          tokens, k values, sender / receiver, option sets, versions
    tests/golden/weights/<model>/weights.safetensors  every result, float32 (ids stored as floats)

for the tiny random models of tests/golden/models/{gpt2,llama_gqa,neox_parallel}.

Reference: TransformerLens 4.x `TransformerBridge` around the Hugging Face model (set up as in
make_probe_goldens.py, whose loading helpers are imported). Weight processing is TL's own
(`enable_compatibility_mode(fold_ln=..., center_writing_weights=..., center_unembed=..., fold_value_biases=...)`,
which calls `TransformerBridge.process_weights` / `ProcessWeights.process_weights`), cross-checked against an
independent re-implementation of the HookedTransformer formulas below. SVDs, eigenvalues and composition scores come
from TL's `FactoredMatrix`, `TransformerBridge.all_composition_scores` and `transformer_lens.utils.composition_scores`,
cross-checked against dense float64 numpy. Neuron decoding is plain torch on the raw weights (TL has no such API).
The script exits non-zero if a check fails.

Python is reference tooling only; the C++ tests never run it. Setup (no hub access is needed or used):

    python3 -m venv .venv
    .venv/bin/pip install torch transformers safetensors transformer-lens
    .venv/bin/python tests/reference/make_weight_goldens.py        # from the repository root

Made with torch 2.15.0, transformers 5.24.0, transformer_lens 4.3.0 (CPU, fp32); versions are recorded in inputs.json
and in the safetensors metadata. Deterministic; takes well under a minute.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Loading helpers (offline env, dummy tokenizer, eager fp32 HF load) shared with the probe goldens.
from make_probe_goldens import (  # noqa: E402
    MODELS, REPO, VERSIONS, TransformerBridge, dummy_tokenizer, fail, load_hf,
)
from golden_io import save_golden  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformer_lens import utilities as tl_utils  # noqa: E402  (TL 4: `utils` was renamed `utilities`)
from transformer_lens.FactoredMatrix import FactoredMatrix  # noqa: E402

OUT_ROOT = REPO / "tests" / "golden" / "weights"
MODEL_NAMES = ["gpt2", "llama_gqa", "neox_parallel"]
T = 7
K_NEURON = 10
K_SVD = 5
SENDER = (0, 1)     # L0H1
RECEIVER = (1, 0)   # L1H0
SEED = 9000

FLAGS = ("fold_ln", "center_writing_weights", "center_unembed", "fold_value_biases")
SETS = [
    ("fold_ln",),
    ("fold_ln", "center_writing_weights"),
    ("fold_ln", "center_writing_weights", "center_unembed", "fold_value_biases"),
    ("center_unembed",),
    ("fold_value_biases",),
]
DEFAULT_SET = "+".join(SETS[2])

LOGPROB_TOL = 1e-4
WEIGHT_TOL = 2e-5       # bridge processing vs own formulas (fp32)
DENSE_TOL = 2e-5        # TL FactoredMatrix (fp64 inputs) / TL composition (fp32) vs dense fp64 numpy
TIE_TOL = 1e-5          # consecutive ranked values closer than this are reported as near-ties
NEAR_TIES = [0]
FINDINGS: list[str] = []


def close(name: str, a, b, tol: float) -> float:
    a = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a).double()
    b = torch.as_tensor(np.asarray(b) if not isinstance(b, torch.Tensor) else b).double()
    if a.shape != b.shape:
        fail(f"{name}: shape {tuple(a.shape)} vs {tuple(b.shape)}")
    d = (a - b).abs().max().item() if a.numel() else 0.0
    if not d <= tol:
        fail(f"{name}: max |diff| {d:.3g} > {tol:.3g}")
    return d


# --------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------
def boot(name: str, flags: tuple[str, ...] | None):
    """A fresh bridge. flags None: no processing (raw weights); else enable_compatibility_mode with exactly those
    processing flags on (the others off)."""
    folder = MODELS / name
    hf = load_hf(folder)
    b = TransformerBridge.boot_transformers(str(folder), hf_model=hf, tokenizer=dummy_tokenizer(hf.config.vocab_size))
    if flags is None:
        b.enable_compatibility_mode(disable_warnings=True, no_processing=True)
    else:
        b.enable_compatibility_mode(disable_warnings=True, **{f: (f in flags) for f in FLAGS})
    b.eval()
    return b


def bridge_weights(b) -> dict[str, torch.Tensor]:
    """Every weight the bridge has, under TL HookedTransformer names and shapes; GQA K/V expanded to the query heads
    (query head h reads KV head h // (H / KV), TL's repeat_interleave)."""
    cfg = b.cfg
    H = cfg.n_heads
    out: dict[str, torch.Tensor] = {"embed.W_E": b.W_E}
    if getattr(b, "pos_embed", None) is not None and cfg.positional_embedding_type == "standard":
        out["pos_embed.W_pos"] = b.W_pos

    def expand(w):
        return w if w.shape[0] == H else w.repeat_interleave(H // w.shape[0], dim=0)

    for L, blk in enumerate(b.blocks):
        a = blk.attn
        for n in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
            w = getattr(a, n)
            if w is None:
                continue
            if n in ("W_Q", "W_K", "W_V"):
                w = b._reshape_qkv(w)
                w = expand(w)
            elif n == "W_O":
                w = b._reshape_o(w)
            elif n in ("b_K", "b_V"):
                w = expand(w)
            out[f"blocks.{L}.attn.{n}"] = w
        m = blk.mlp
        for n in ("W_in", "W_gate", "W_out", "b_in", "b_out"):
            w = getattr(m, n, None)
            if w is not None:
                out[f"blocks.{L}.mlp.{n}"] = w
        for ln in ("ln1", "ln2"):
            mod = getattr(blk, ln)
            for n in ("w", "b"):
                w = getattr(mod, n, None)
                if w is not None:
                    out[f"blocks.{L}.{ln}.{n}"] = w
    for n in ("w", "b"):
        w = getattr(b.ln_final, n, None)
        if w is not None:
            out[f"ln_final.{n}"] = w
    out["unembed.W_U"] = b.W_U
    out["unembed.b_U"] = b.b_U
    return {k: v.detach().float().clone().contiguous() for k, v in out.items()}


def hf_weights(name: str) -> tuple[dict[str, torch.Tensor], str]:
    """The raw weights straight from the HF checkpoint, converted here to TL names / shapes (independent of TL)."""
    m = load_hf(MODELS / name)
    c = m.config
    D = c.hidden_size
    H = c.num_attention_heads
    dh = D // H if getattr(c, "head_dim", None) is None else c.head_dim
    w: dict[str, torch.Tensor] = {}
    g = lambda t: t.detach().float().clone()  # noqa: E731
    if c.model_type == "gpt2":
        tr = m.transformer
        w["embed.W_E"] = g(tr.wte.weight)
        w["pos_embed.W_pos"] = g(tr.wpe.weight)
        for L, blk in enumerate(tr.h):
            W = g(blk.attn.c_attn.weight)              # Conv1D [in, out], out = [q | k | v]
            bb = g(blk.attn.c_attn.bias)
            for i, n in enumerate("QKV"):
                w[f"blocks.{L}.attn.W_{n}"] = W[:, i * D:(i + 1) * D].reshape(D, H, dh).permute(1, 0, 2)
                w[f"blocks.{L}.attn.b_{n}"] = bb[i * D:(i + 1) * D].reshape(H, dh)
            w[f"blocks.{L}.attn.W_O"] = g(blk.attn.c_proj.weight).reshape(H, dh, D)
            w[f"blocks.{L}.attn.b_O"] = g(blk.attn.c_proj.bias)
            w[f"blocks.{L}.mlp.W_in"] = g(blk.mlp.c_fc.weight)
            w[f"blocks.{L}.mlp.b_in"] = g(blk.mlp.c_fc.bias)
            w[f"blocks.{L}.mlp.W_out"] = g(blk.mlp.c_proj.weight)
            w[f"blocks.{L}.mlp.b_out"] = g(blk.mlp.c_proj.bias)
            for ln, mod in (("ln1", blk.ln_1), ("ln2", blk.ln_2)):
                w[f"blocks.{L}.{ln}.w"] = g(mod.weight)
                w[f"blocks.{L}.{ln}.b"] = g(mod.bias)
        w["ln_final.w"] = g(tr.ln_f.weight)
        w["ln_final.b"] = g(tr.ln_f.bias)
        norm = "layernorm"
    elif c.model_type == "gpt_neox":
        tr = m.gpt_neox
        w["embed.W_E"] = g(tr.embed_in.weight)
        for L, blk in enumerate(tr.layers):
            W = g(blk.attention.query_key_value.weight).view(H, 3, dh, D)   # rows grouped per head: [q | k | v]
            bb = g(blk.attention.query_key_value.bias).view(H, 3, dh)
            for i, n in enumerate("QKV"):
                w[f"blocks.{L}.attn.W_{n}"] = W[:, i].permute(0, 2, 1)
                w[f"blocks.{L}.attn.b_{n}"] = bb[:, i]
            w[f"blocks.{L}.attn.W_O"] = g(blk.attention.dense.weight).T.reshape(H, dh, D)
            w[f"blocks.{L}.attn.b_O"] = g(blk.attention.dense.bias)
            w[f"blocks.{L}.mlp.W_in"] = g(blk.mlp.dense_h_to_4h.weight).T
            w[f"blocks.{L}.mlp.b_in"] = g(blk.mlp.dense_h_to_4h.bias)
            w[f"blocks.{L}.mlp.W_out"] = g(blk.mlp.dense_4h_to_h.weight).T
            w[f"blocks.{L}.mlp.b_out"] = g(blk.mlp.dense_4h_to_h.bias)
            for ln, mod in (("ln1", blk.input_layernorm), ("ln2", blk.post_attention_layernorm)):
                w[f"blocks.{L}.{ln}.w"] = g(mod.weight)
                w[f"blocks.{L}.{ln}.b"] = g(mod.bias)
        w["ln_final.w"] = g(tr.final_layer_norm.weight)
        w["ln_final.b"] = g(tr.final_layer_norm.bias)
        norm = "layernorm"
    elif c.model_type == "llama":
        tr = m.model
        KV = c.num_key_value_heads
        w["embed.W_E"] = g(tr.embed_tokens.weight)
        for L, blk in enumerate(tr.layers):
            a = blk.self_attn
            w[f"blocks.{L}.attn.W_Q"] = g(a.q_proj.weight).view(H, dh, D).permute(0, 2, 1)
            for n, p in (("K", a.k_proj), ("V", a.v_proj)):
                w[f"blocks.{L}.attn.W_{n}"] = (g(p.weight).view(KV, dh, D).permute(0, 2, 1)
                                              .repeat_interleave(H // KV, dim=0))
            w[f"blocks.{L}.attn.W_O"] = g(a.o_proj.weight).T.reshape(H, dh, D)
            w[f"blocks.{L}.mlp.W_in"] = g(blk.mlp.up_proj.weight).T
            w[f"blocks.{L}.mlp.W_gate"] = g(blk.mlp.gate_proj.weight).T
            w[f"blocks.{L}.mlp.W_out"] = g(blk.mlp.down_proj.weight).T
            w[f"blocks.{L}.ln1.w"] = g(blk.input_layernorm.weight)
            w[f"blocks.{L}.ln2.w"] = g(blk.post_attention_layernorm.weight)
        w["ln_final.w"] = g(tr.norm.weight)
        norm = "rmsnorm"
    else:
        fail(f"{name}: unknown family {c.model_type}")
    head = m.get_output_embeddings()
    w["unembed.W_U"] = g(head.weight).T
    w["unembed.b_U"] = (torch.zeros(c.vocab_size) if getattr(head, "bias", None) is None else g(head.bias))
    return w, norm


# --------------------------------------------------------------------------------------------------------------
# Own re-implementation of TL's processing formulas (HookedTransformer / ProcessWeights), for the cross-check only
# --------------------------------------------------------------------------------------------------------------
def own_process(raw: dict[str, torch.Tensor], norm: str, n_layers: int, flags: tuple[str, ...]):
    w = {k: v.double().clone() for k, v in raw.items()}
    ln = norm == "layernorm"
    if "fold_ln" in flags:
        for L in range(n_layers):
            p = f"blocks.{L}."
            g1 = w[p + "ln1.w"]
            for n in "QKV":
                W = w[p + f"attn.W_{n}"]                                      # [H, D, dh]
                if ln:
                    w[p + f"attn.b_{n}"] = w[p + f"attn.b_{n}"] + torch.einsum("d,hdk->hk", w[p + "ln1.b"], W)
                W = W * g1[None, :, None]
                if ln:
                    W = W - W.mean(1, keepdim=True)
                w[p + f"attn.W_{n}"] = W
            g2 = w[p + "ln2.w"]
            for n in ("in", "gate"):
                if p + f"mlp.W_{n}" not in w:
                    continue
                W = w[p + f"mlp.W_{n}"]                                       # [D, d_mlp]
                if ln:
                    w[p + f"mlp.b_{n}"] = w[p + f"mlp.b_{n}"] + w[p + "ln2.b"] @ W
                W = W * g2[:, None]
                if ln:
                    W = W - W.mean(0, keepdim=True)
                w[p + f"mlp.W_{n}"] = W
            w[p + "ln1.w"] = torch.ones_like(g1)
            w[p + "ln2.w"] = torch.ones_like(g2)
            if ln:
                w[p + "ln1.b"] = torch.zeros_like(g1)
                w[p + "ln2.b"] = torch.zeros_like(g2)
        W = w["unembed.W_U"]
        if ln:
            w["unembed.b_U"] = w["unembed.b_U"] + w["ln_final.b"] @ W
        W = W * w["ln_final.w"][:, None]
        if ln:
            W = W - W.mean(0, keepdim=True)
        w["unembed.W_U"] = W
        w["ln_final.w"] = torch.ones_like(w["ln_final.w"])
        if ln:
            w["ln_final.b"] = torch.zeros_like(w["ln_final.b"])
    center = "center_writing_weights" in flags and ln           # TL skips centring for RMSNorm models
    if center:
        for k in ("embed.W_E", "pos_embed.W_pos"):
            if k in w:
                w[k] = w[k] - w[k].mean(-1, keepdim=True)
        for L in range(n_layers):
            p = f"blocks.{L}."
            for k in ("attn.W_O", "mlp.W_out"):
                w[p + k] = w[p + k] - w[p + k].mean(-1, keepdim=True)
            for k in ("attn.b_O", "mlp.b_out"):
                if p + k in w:
                    w[p + k] = w[p + k] - w[p + k].mean()
    if "center_unembed" in flags:
        w["unembed.W_U"] = w["unembed.W_U"] - w["unembed.W_U"].mean(-1, keepdim=True)
        w["unembed.b_U"] = w["unembed.b_U"] - w["unembed.b_U"].mean()
    if "fold_value_biases" in flags:
        for L in range(n_layers):
            p = f"blocks.{L}."
            if p + "attn.b_V" not in w:
                continue
            # (GQA: b_V is already expanded to the query heads, so every query head folds its group's bias)
            w[p + "attn.b_O"] = w[p + "attn.b_O"] + torch.einsum("hk,hkd->d", w[p + "attn.b_V"], w[p + "attn.W_O"])
            w[p + "attn.b_V"] = torch.zeros_like(w[p + "attn.b_V"])
    return {k: v.float() for k, v in w.items()}


# --------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------
def topk_ids(x: torch.Tensor, k: int, largest: bool = True):
    """Top k along the last axis (float64 values), best first; also the smallest gap between consecutive values of
    the first k + 1 sorted values (how robust the ranking is to fp32 rounding)."""
    s, i = torch.sort(x, dim=-1, descending=largest, stable=True)
    d = s[..., :k + 1].diff(dim=-1).abs()
    NEAR_TIES[0] += int((d < TIE_TOL).sum())
    return i[..., :k], s[..., :k], d.min().item()


def logprobs(b, tokens: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.log_softmax(b(tokens)[0].double(), -1).float()


# --------------------------------------------------------------------------------------------------------------
# Parts
# --------------------------------------------------------------------------------------------------------------
def part_process(name, raw_hf, norm, n_layers, tokens, out) -> dict:
    b = boot(name, None)
    raw = bridge_weights(b)
    if set(raw) != set(raw_hf):
        fail(f"{name}: bridge weight names {sorted(set(raw) ^ set(raw_hf))} differ from the HF conversion")
    for k in raw:
        close(f"{name}: bridge raw {k} vs HF checkpoint", raw[k], raw_hf[k], 1e-7)
    lp_raw = logprobs(b, tokens)
    hf = load_hf(MODELS / name)
    with torch.no_grad():
        lp_hf = torch.log_softmax(hf(tokens).logits[0].double(), -1).float()
    close(f"{name}: raw bridge log-probs vs HF", lp_raw, lp_hf, 1e-5)
    out["raw/logprobs"] = lp_raw
    worst_lp, worst_w = 0.0, 0.0
    default_bridge = None
    for flags in SETS:
        s = "+".join(flags)
        bp = boot(name, flags)
        pw = bridge_weights(bp)
        mine = own_process(raw_hf, norm, n_layers, flags)
        if set(pw) != set(mine):
            fail(f"{name} {s}: processed names {sorted(set(pw) ^ set(mine))} differ from the own formulas")
        for k in sorted(pw):
            worst_w = max(worst_w, close(f"{name} {s}: TL {k} vs own formula", pw[k], mine[k], WEIGHT_TOL))
            out[f"process/{s}/{k}"] = pw[k]
        lp = logprobs(bp, tokens)
        worst_lp = max(worst_lp, close(f"{name} {s}: processed log-probs vs raw", lp, lp_raw, LOGPROB_TOL))
        out[f"process/{s}/logprobs"] = lp
        if s == DEFAULT_SET:
            default_bridge = bp
        # what changed vs raw (for the README)
        changed = [k for k in sorted(pw) if not torch.equal(pw[k], raw[k])]
        FINDINGS.append(f"{name}: `{s}` changes {len(changed)}/{len(pw)} weights: "
                        + (", ".join(sorted({k.split('.', 2)[-1] if k.startswith('blocks.') else k
                                             for k in changed})) or "none"))
    FINDINGS.append(f"{name}: bridge processing = own HookedTransformer formulas (max |diff| {worst_w:.2g}); "
                    f"processed log-probs = raw (max |diff| {worst_lp:.2g}); raw bridge log-probs = HF")
    return {"raw_bridge": b, "default_bridge": default_bridge}


def part_neurons(name, w, norm, n_layers, out) -> None:
    W_U = w["unembed.W_U"].double()
    g = w["ln_final.w"].double()

    def f(v, through_norm):                       # v [..., D]
        if not through_norm:
            return v
        if norm == "layernorm":
            v = v - v.mean(-1, keepdim=True)
        return v * g

    views = {"out": torch.stack([w[f"blocks.{L}.mlp.W_out"] for L in range(n_layers)]).double(),        # [L, N, D]
             "in": torch.stack([w[f"blocks.{L}.mlp.W_in"].T for L in range(n_layers)]).double()}
    if "blocks.0.mlp.W_gate" in w:
        views["gate"] = torch.stack([w[f"blocks.{L}.mlp.W_gate"].T for L in range(n_layers)]).double()
    gaps = []
    NEAR_TIES[0] = 0
    for mode, tn in (("norm", True), ("raw", False)):
        for view, vec in views.items():
            logits = f(vec, tn) @ W_U                                                       # [L, N, V]
            # cross-check one neuron the slow way
            L, n = n_layers - 1, 3
            v1 = vec[L, n]
            if tn:
                v1 = (v1 - v1.mean() if norm == "layernorm" else v1) * g
            close(f"{name}: neuron decoding {mode}/{view} spot check", logits[L, n], v1 @ W_U, 1e-10)
            i, s, gap = topk_ids(logits, K_NEURON, True)
            out[f"neuron_decoding/{mode}/{view}_top_token"] = i.float()
            out[f"neuron_decoding/{mode}/{view}_top_logit"] = s.float()
            gaps.append(gap)
            if view == "out":
                i, s, gap = topk_ids(logits, K_NEURON, False)
                out[f"neuron_decoding/{mode}/{view}_bottom_token"] = i.float()
                out[f"neuron_decoding/{mode}/{view}_bottom_logit"] = s.float()
                gaps.append(gap)
    # norm vs raw: LN centring + gain changes the ranking, the shared rescale would not
    same = (out["neuron_decoding/norm/in_top_token"][..., 0] == out["neuron_decoding/raw/in_top_token"][..., 0])
    FINDINGS.append(f"{name}: neuron decoding over {list(views)}; smallest gap between consecutive ranked logits "
                    f"(top/bottom k+1) {min(gaps):.2g}, {NEAR_TIES[0]} adjacent pairs closer than {TIE_TOL:g}; read-vector top-1 token same with/without the final norm "
                    f"for {int(same.sum())}/{same.numel()} neurons")


def sign_fixed_svd(Wa: torch.Tensor, Wb: torch.Tensor, W_U: torch.Tensor):
    """TL FactoredMatrix(Wa, Wb).svd() in float64, with each component's sign fixed so that the largest-|.| entry of
    vh_c @ W_U is positive. Returns U [.., D, C], S [.., C], Vh rows as V [.., D, C] (M = U diag(S) V^T)."""
    fm = FactoredMatrix(Wa.double(), Wb.double())
    U, S, V = fm.svd()
    proj = torch.einsum("...dc,dv->...cv", V, W_U.double())                 # [.., C, V]
    idx = proj.abs().argmax(-1, keepdim=True)
    sign = torch.sign(torch.gather(proj, -1, idx)).squeeze(-1)               # [.., C]
    sign[sign == 0] = 1
    return U * sign[..., None, :], S, V * sign[..., None, :]


def part_head_svd(name, w, n_layers, out) -> dict:
    W_E, W_U = w["embed.W_E"].double(), w["unembed.W_U"].double()
    W_Q = torch.stack([w[f"blocks.{L}.attn.W_Q"] for L in range(n_layers)]).double()   # [L, H, D, dh]
    W_K = torch.stack([w[f"blocks.{L}.attn.W_K"] for L in range(n_layers)]).double()
    W_V = torch.stack([w[f"blocks.{L}.attn.W_V"] for L in range(n_layers)]).double()
    W_O = torch.stack([w[f"blocks.{L}.attn.W_O"] for L in range(n_layers)]).double()   # [L, H, dh, D]
    U, S, V = sign_fixed_svd(W_V, W_O, W_U)
    qk_S = FactoredMatrix(W_Q, W_K.transpose(-2, -1)).S
    out["head_svd/ov_singular_values"] = S.float()
    out["head_svd/qk_singular_values"] = qk_S.float()
    out["head_svd/ov_in_dirs"] = U.transpose(-2, -1).float()                  # [L, H, C, D]: u_c
    out["head_svd/ov_out_dirs"] = V.transpose(-2, -1).float()                 # [L, H, C, D]: vh_c
    out_logits = torch.einsum("lhdc,dv->lhcv", V, W_U)
    in_logits = torch.einsum("vd,lhdc->lhcv", W_E, U)
    NEAR_TIES[0] = 0
    i, s, gap1 = topk_ids(out_logits, K_SVD)
    out["head_svd/ov_out_top_token"] = i.float()
    out["head_svd/ov_out_top_value"] = s.float()
    i, s, gap2 = topk_ids(in_logits, K_SVD)
    out["head_svd/ov_in_top_token"] = i.float()
    out["head_svd/ov_in_top_value"] = s.float()

    # copying score: TL FactoredMatrix eigenvalues of the full OV circuit W_E W_V W_O W_U
    ev = FactoredMatrix(W_E @ W_V, W_O @ W_U).eigenvalues                     # [L, H, dh] complex
    cs = ev.sum(-1).real / ev.abs().sum(-1)
    out["head_svd/copying_score"] = cs.float()

    # robustness of the sign convention and of the directions: the largest |entry| of vh_c @ W_U vs the runner-up,
    # and the smallest relative gap between consecutive singular values (distinct -> directions unique up to sign)
    top2 = out_logits.abs().topk(2, dim=-1).values
    sign_margin = (top2[..., 0] - top2[..., 1]).min().item()
    sv_gap = ((S[..., :-1] - S[..., 1:]) / S[..., :1]).min().item()
    FINDINGS.append(f"{name}: sign convention margin (largest minus second largest |vh_c @ W_U|) >= {sign_margin:.2g}; "
                    f"smallest relative gap between consecutive OV singular values {sv_gap:.2g}")
    Ln, H = S.shape[:2]
    worst_sv, worst_cs, worst_rec = 0.0, 0.0, 0.0
    for L in range(Ln):
        for h in range(H):
            ov = (W_V[L, h] @ W_O[L, h]).numpy()
            qk = (W_Q[L, h] @ W_K[L, h].T).numpy()
            dh = S.shape[-1]
            worst_sv = max(worst_sv, close(f"{name}: OV L{L}H{h} singular values vs dense",
                                           S[L, h], np.linalg.svd(ov, compute_uv=False)[:dh], 1e-10))
            worst_sv = max(worst_sv, close(f"{name}: QK L{L}H{h} singular values vs dense",
                                           qk_S[L, h], np.linalg.svd(qk, compute_uv=False)[:dh], 1e-10))
            rec = (U[L, h] * S[L, h]) @ V[L, h].T
            worst_rec = max(worst_rec, close(f"{name}: OV L{L}H{h} = U S V^T", rec, ov, 1e-10))
            full = W_E.numpy() @ ov @ W_U.numpy()
            lam = np.linalg.eigvals(full)
            dense = lam.sum().real / np.abs(lam).sum()
            worst_cs = max(worst_cs, close(f"{name}: copying score L{L}H{h} vs dense eigvals", cs[L, h], dense, 1e-6))
    FINDINGS.append(f"{name}: head SVD singular values = dense numpy (max |diff| {worst_sv:.2g}), U S V^T = OV "
                    f"({worst_rec:.2g}); copying score = dense [V, V] eigvals (max |diff| {worst_cs:.2g}); "
                    f"min gap in ranked top-{K_SVD + 1} token values {min(gap1, gap2):.2g} ({NEAR_TIES[0]} adjacent pairs closer "
                    f"than {TIE_TOL:g})")
    return {"W_Q": W_Q, "W_K": W_K, "W_V": W_V, "W_O": W_O, "U": U, "S": S, "V": V}


def dense_comp(A: np.ndarray, B: np.ndarray) -> float:
    return np.linalg.norm(A @ B) / (np.linalg.norm(A) * np.linalg.norm(B))


def part_composition(name, b, m, out, prefix="composition") -> None:
    W_Q, W_K, W_V, W_O = m["W_Q"], m["W_K"], m["W_V"], m["W_O"]
    Ln, H = W_Q.shape[:2]
    worst = 0.0
    for mode in ("Q", "K", "V"):
        sc = b.all_composition_scores(mode).scores.detach().float()           # [L, H, L, H]
        # the same from TL utils on FactoredMatrix built from the weights given (fp64)
        OV = FactoredMatrix(W_V, W_O)
        QK = FactoredMatrix(W_Q, W_K.transpose(-2, -1))
        right = {"Q": QK, "K": QK.T, "V": OV}[mode]
        sc2 = tl_utils.composition_scores(OV, right, broadcast_dims=True)
        mask = torch.arange(Ln)[:, None, None, None] < torch.arange(Ln)[None, None, :, None]
        sc2 = torch.where(mask, sc2, torch.zeros_like(sc2))
        worst = max(worst, close(f"{name}: {prefix} {mode}: bridge vs utils.composition_scores", sc, sc2, DENSE_TOL))
        for L1 in range(Ln):
            for h1 in range(H):
                A = (W_V[L1, h1] @ W_O[L1, h1]).numpy()
                for L2 in range(Ln):
                    for h2 in range(H):
                        if L2 <= L1:
                            if sc[L1, h1, L2, h2] != 0:
                                fail(f"{name}: {prefix} {mode} not 0 at L{L1}H{h1} -> L{L2}H{h2}")
                            continue
                        qk = (W_Q[L2, h2] @ W_K[L2, h2].T).numpy()
                        B = {"Q": qk, "K": qk.T, "V": (W_V[L2, h2] @ W_O[L2, h2]).numpy()}[mode]
                        worst = max(worst, close(f"{name}: {prefix} {mode} L{L1}H{h1}->L{L2}H{h2} vs dense",
                                                 sc[L1, h1, L2, h2], dense_comp(A, B), DENSE_TOL))
        out[f"{prefix}/{mode.lower()}"] = sc
    FINDINGS.append(f"{name}: `{prefix}` (TL bridge all_composition_scores) = utils.composition_scores = dense "
                    f"norms (max |diff| {worst:.2g})")


def part_channels(name, m, out) -> None:
    (Ls, hs), (Lr, hr) = SENDER, RECEIVER
    U, S, V = m["U"][Ls, hs], m["S"][Ls, hs], m["V"][Ls, hs]                  # [D, C], [C], [D, C]
    W_Q, W_K, W_V, W_O = m["W_Q"], m["W_K"], m["W_V"], m["W_O"]
    pieces = FactoredMatrix((U * S)[:, :, None].permute(1, 0, 2), V.T[:, None, :])   # [C] x ([D, 1] @ [1, D])
    QK = FactoredMatrix(W_Q[Lr, hr], W_K[Lr, hr].T)
    OVr = FactoredMatrix(W_V[Lr, hr], W_O[Lr, hr])
    ov_s = (W_V[Ls, hs] @ W_O[Ls, hs]).numpy()
    close(f"{name}: channel pieces sum to the sender's OV", pieces.AB.sum(0), ov_s, 1e-10)
    worst = 0.0
    qk = QK.AB.numpy()
    for mode, right, dense_right in (("q", QK, qk), ("k", QK.T, qk.T), ("v", OVr, OVr.AB.numpy())):
        sc = tl_utils.composition_scores(pieces, right, broadcast_dims=True)   # [C]
        for c in range(S.shape[0]):
            P = (S[c] * torch.outer(U[:, c], V[:, c])).numpy()
            worst = max(worst, close(f"{name}: channel {mode} c{c} vs dense", sc[c], dense_comp(P, dense_right), 1e-10))
        out[f"channels/{mode}"] = sc.float()
    top = {k: int(out[f"channels/{k}"].argmax()) for k in "qkv"}
    FINDINGS.append(f"{name}: channels L{Ls}H{hs} -> L{Lr}H{hr}: pieces sum to OV, scores = dense (max |diff| "
                    f"{worst:.2g}); strongest component q/k/v = {top['q']}/{top['k']}/{top['v']}")


# --------------------------------------------------------------------------------------------------------------
README = """# Golden files: weight-space probes (weight processing, neuron decoding, head SVD, composition, channels)

Generated by `tests/reference/make_weight_goldens.py` (do not edit by hand: this README is rewritten by the script).
Regenerate from the repository root:

    python3 -m venv .venv
    .venv/bin/pip install torch transformers safetensors transformer-lens
    .venv/bin/python tests/reference/make_weight_goldens.py

Versions: torch {torch}, transformers {transformers}, transformer_lens {transformer_lens}; CPU. Deterministic
(re-running reproduces every tensor bit for bit).

One folder per tiny model of `tests/golden/models/` (`gpt2`, `llama_gqa`, `neox_parallel`; load the weights from
there). Each holds:

- `inputs.json`: `tokens` (T = 7, seeded, ids in [1, vocab)), `k_neuron` (10), `k_svd` (5), `sender` ("L0H1") and
  `receiver` ("L1H0") of the channel tensors, `process_sets` (the option-set names below, in order), `norm`
  ("layernorm" | "rmsnorm"), `gated_mlp`, `sign_convention`, `versions`.
- `weights.safetensors`: float32 tensors listed below (metadata: versions). Token ids are stored as floats.

## Weight names and shapes (TransformerLens)

L layers, H query heads, D = d_model, dh = d_head, N = d_mlp, V = vocab.
`embed.W_E` [V, D]; `pos_embed.W_pos` [n_ctx, D] (gpt2 only); `blocks.L.attn.W_Q`, `W_K`, `W_V` [H, D, dh];
`blocks.L.attn.W_O` [H, dh, D]; `b_Q`, `b_K`, `b_V` [H, dh]; `b_O` [D]; `blocks.L.mlp.W_in` [D, N] (Llama: up_proj),
`W_gate` [D, N] (Llama: gate_proj), `W_out` [N, D], `b_in` [N], `b_out` [D]; `blocks.L.ln1.w|b`, `ln2.w|b`,
`ln_final.w|b` [D] (RMSNorm: `w` only); `unembed.W_U` [D, V], `unembed.b_U` [V]. A layer computes x @ W (row
vectors): q = x @ W_Q[h] + b_Q[h], head output z @ W_O[h], logits = x @ W_U + b_U.

GQA (`llama_gqa`, 4 query heads over 2 KV heads): `W_K` / `W_V` (and `b_K` / `b_V` where they exist) are EXPANDED to
the query heads, query head h using KV head h // 2 (TL's `repeat_interleave`), so they are [4, D, dh] and heads 0, 1
(and 2, 3) hold identical K / V weights. Every OV / QK product below uses the expanded weights.

Weights a model does not have are absent (Llama: no attention / MLP biases, no ln biases; no model here has an
unembedding bias, but the bridge always exposes `unembed.b_U`, zeros before processing; gpt2's embeddings are tied,
TL unties them before processing, so `unembed.W_U` may differ from `embed.W_E`^T after processing).

## Tensors

| name | shape | what | reference |
| --- | --- | --- | --- |
| `raw/logprobs` | [T, V] | log_softmax of the unprocessed model on `tokens` | TL bridge, `enable_compatibility_mode(no_processing=True)`; checked = HF (1e-5) |
| `process/<set>/<weight name>` | as above | every weight after TL weight processing with option set `<set>` | TL bridge `enable_compatibility_mode(fold_ln=..., center_writing_weights=..., center_unembed=..., fold_value_biases=...)` (= `TransformerBridge.process_weights` -> `ProcessWeights.process_weights`), read back with the bridge's `W_*` / `b_*` accessors |
| `process/<set>/logprobs` | [T, V] | log_softmax of the processed model; equals `raw/logprobs` (checked, 1e-4) | TL bridge forward |
| `neuron_decoding/<mode>/out_top_token`, `out_top_logit` | [L, N, k=10] | write vector W_out[L][n] (D) through f, @ W_U (no b_U); the k largest logits, largest first | torch, raw weights |
| `neuron_decoding/<mode>/out_bottom_token`, `out_bottom_logit` | [L, N, 10] | same, the k smallest, smallest first | same |
| `neuron_decoding/<mode>/in_top_token`, `in_top_logit` | [L, N, 10] | read vector W_in[L][:, n] | same |
| `neuron_decoding/<mode>/gate_top_token`, `gate_top_logit` | [L, N, 10] | gate vector W_gate[L][:, n] (`llama_gqa` only) | same |
| `head_svd/ov_singular_values` | [L, H, dh] | singular values of OV = W_V[h] @ W_O[h] ([D, D], rank <= dh), descending | TL `FactoredMatrix(W_V, W_O).svd()` (fp64); checked = numpy dense SVD |
| `head_svd/qk_singular_values` | [L, H, dh] | of QK = W_Q[h] @ W_K[h]^T | TL `FactoredMatrix(W_Q, W_K^T).S` |
| `head_svd/ov_in_dirs`, `ov_out_dirs` | [L, H, C=dh, D] | u_c and vh_c (unit vectors) of OV = sum_c s_c u_c^T vh_c (x @ OV reads x along u_c, writes along vh_c), sign-fixed | TL FactoredMatrix (`U`, `V`), sign fixed here |
| `head_svd/ov_out_top_token`, `ov_out_top_value` | [L, H, C, 5] | top tokens (largest first) of vh_c @ W_U | torch |
| `head_svd/ov_in_top_token`, `ov_in_top_value` | [L, H, C, 5] | top tokens of W_E @ u_c (the input direction read through the embedding) | torch |
| `head_svd/copying_score` | [L, H] | Elhage et al.: sum(lambda) / sum(abs(lambda)) over the eigenvalues of the full OV circuit W_E @ W_V[h] @ W_O[h] @ W_U ([V, V]) | TL `FactoredMatrix(W_E @ W_V, W_O @ W_U).eigenvalues` (eig of the [dh, dh] B A); checked = numpy eigvals of the dense [V, V] matrix (1e-6) |
| `composition/q`, `/k`, `/v` | [L, H, L, H] = [sender layer, sender head, receiver layer, receiver head] | norm(A B)_F / (norm(A)_F norm(B)_F), A = sender OV, B = receiver QK (q), QK^T (k), OV (v); 0 where the receiver layer <= the sender layer | TL `TransformerBridge.all_composition_scores("Q"/"K"/"V")` on the UNPROCESSED bridge (raw weights); checked = `utils.composition_scores` on fp64 FactoredMatrix = dense numpy norms |
| `composition_processed/q`, `/k`, `/v` | [L, H, L, H] | the same on the weights of the default set `{default}` (what a HookedTransformer user gets from `from_pretrained`) | same, on the processed bridge |
| `channels/q`, `/k`, `/v` | [dh] | Talking Heads (Merullo et al.): composition score of each rank-1 piece s_c u_c^T vh_c of the sender's OV (sender L0H1, components in descending singular-value order, same sign convention; the sign does not change the score) with the receiver's (L1H0) QK (q), QK^T (k), OV (v) | TL `utils.composition_scores` on FactoredMatrix pieces; checked = dense norms; pieces checked to sum to OV |

`<set>` is one of: `fold_ln`, `fold_ln+center_writing_weights`, `{default}` (TL's usual default), `center_unembed`,
`fold_value_biases` (flags named are on, the others off).

`<mode>` of neuron decoding: `norm` (through_norm = true) applies f = the final norm without its statistics:
LayerNorm models (gpt2, neox): centre the vector (subtract its mean over D), then multiply by `ln_final.w`; RMSNorm
(llama): multiply by `ln_final.w`. `raw` (through_norm = false): f = identity. Neither the final norm's bias nor b_U
is added (they are the same for every neuron, not a property of the neuron). All from the RAW (unprocessed) weights.

Ties: token rankings were computed in float64. A few adjacent ranked values are closer than 1e-5 (counts in the
findings below), so a float32 implementation may legitimately swap such neighbours (or, at rank k, pick the
(k+1)-th token): compare ids where the reference values `*_logit` / `*_value` of the neighbours differ by more than
~1e-5, and compare the values themselves to ~1e-5.

Sign convention of the SVD: OV = U diag(S) V^T (TL's `FactoredMatrix.svd()` returns V, not V^T; `.Vh` is a
deprecated alias of `.V` in TL 4.3). For each component c, u_c and vh_c (column c of U and V) are flipped together so
that the entry of vh_c @ W_U (raw W_U) with the largest absolute value is positive. All weight-space tensors here
(neuron decoding, head SVD, copying score, composition without `_processed`, channels) use the RAW weights.

## Notes on TL 4.3 processing

- Processing is TL's: for each option set a fresh bridge is booted and `enable_compatibility_mode(...)` is called
  with those flags. Every processed weight is checked (2e-5) against an own float64 re-implementation of the
  HookedTransformer formulas:
  - fold_ln (LayerNorm): b_X += ln.b @ W_X, W_X *= ln.w (per d_model row), then W_X -= its mean over d_model, for
    W_Q/W_K/W_V (ln1), W_in/W_gate (ln2), W_U (ln_final, into b_U); the ln weights become 1 and biases 0 (the bridge
    keeps the norm modules, which still centre and scale: TL's LNPre / RMSPre).
  - fold_ln (RMSNorm): only the gains are folded (W_X *= w), no bias folding and no centring; the ln weights become 1.
  - center_writing_weights: W_E, W_pos, W_O, W_out -= their mean over d_model (last axis); b_O, b_out -= their mean.
    SKIPPED by TL for RMSNorm models (`normalization_type` not LN/LNPre): for `llama_gqa` the set
    `fold_ln+center_writing_weights` equals `fold_ln`.
  - center_unembed: W_U -= its mean over the vocabulary (per d_model row); b_U -= its mean. Applied for RMSNorm too.
  - fold_value_biases: b_O += sum_h b_V[h] @ W_O[h]; b_V = 0 (no-op for Llama: no biases). TL 4.3 re-centres b_O
    afterwards when centring is on (a no-op here since W_O is then centred already).
- The bridge keeps `ln*.w` / `ln*.b` as parameters after folding (ones / zeros); HookedTransformer would drop them
  (LNPre). They are written anyway.

## Self-checks (the script exits non-zero if one fails)

- Bridge raw weights (TL names) = own conversion of the HF checkpoint (exact); raw bridge log-probs = HF (1e-5).
- Every processed weight = own formulas (2e-5); processed log-probs = raw (1e-4) for every set.
- Singular values (OV and QK) = numpy dense SVD of the [D, D] product; U S V^T = OV.
- Copying score = the same ratio from numpy eigvals of the dense [V, V] circuit (1e-6).
- Composition: bridge `all_composition_scores` = `utils.composition_scores` on fp64 FactoredMatrix = dense
  norm(A B) / (norm(A) norm(B)) (2e-5); zero where the receiver is not later.
- Channels: the pieces sum to the sender's OV; each score = the dense version.
- Neuron decoding: a spot-check neuron recomputed the slow way. The smallest gap between consecutive ranked values
  is reported below (ties would make the ranking ambiguous in fp32).

## Findings of the last run

{findings}
"""


def main() -> None:
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    for mi, name in enumerate(MODEL_NAMES):
        print(f"== {name}", flush=True)
        raw_hf, norm = hf_weights(name)
        n_layers = sum(1 for k in raw_hf if k.endswith(".attn.W_Q"))
        V = raw_hf["embed.W_E"].shape[0]
        gen = torch.Generator().manual_seed(SEED + mi)
        tokens = torch.randint(1, V, (1, T), generator=gen)
        out: dict[str, torch.Tensor] = {}
        bridges = part_process(name, raw_hf, norm, n_layers, tokens, out)
        print("   processing done", flush=True)
        part_neurons(name, raw_hf, norm, n_layers, out)
        mats = part_head_svd(name, raw_hf, n_layers, out)
        part_composition(name, bridges["raw_bridge"], mats, out, "composition")
        pw = {k[len(f"process/{DEFAULT_SET}/"):]: v for k, v in out.items() if k.startswith(f"process/{DEFAULT_SET}/")}
        pm = {n: torch.stack([pw[f"blocks.{L}.attn.{n}"] for L in range(n_layers)]).double()
              for n in ("W_Q", "W_K", "W_V", "W_O")}
        part_composition(name, bridges["default_bridge"], pm, out, "composition_processed")
        part_channels(name, mats, out)

        for k, t in out.items():
            if not torch.isfinite(t).all():
                fail(f"{name}: {k} not finite")
        d = OUT_ROOT / name
        d.mkdir(parents=True, exist_ok=True)
        inputs = {
            "model": f"tests/golden/models/{name}",
            "tokens": tokens[0].tolist(),
            "k_neuron": K_NEURON, "k_svd": K_SVD,
            "sender": f"L{SENDER[0]}H{SENDER[1]}", "receiver": f"L{RECEIVER[0]}H{RECEIVER[1]}",
            "process_sets": ["+".join(s) for s in SETS],
            "default_set": DEFAULT_SET,
            "norm": norm,
            "gated_mlp": "blocks.0.mlp.W_gate" in raw_hf,
            "sign_convention": "OV = U diag(S) V^T; per component flip u_c, vh_c so that the largest-|.| entry of "
                               "vh_c @ W_U (raw) is positive",
            "neuron_decoding": "norm: LayerNorm -> (v - mean(v)) * ln_final.w, RMSNorm -> v * ln_final.w; raw: v; "
                               "then @ W_U, no biases; raw weights",
            "versions": VERSIONS,
        }
        (d / "inputs.json").write_text(json.dumps(inputs, indent=2) + "\n")
        save_golden(d / "weights.safetensors", {k: out[k] for k in sorted(out)},
                    {"model": name, **VERSIONS, "generator": "tests/reference/make_weight_goldens.py"})
        print(f"   wrote {len(out)} tensors", flush=True)
    print("\nfindings:")
    for f in FINDINGS:
        print(" -", f)
    (OUT_ROOT / "README.md").write_text(README.format(**VERSIONS, default=DEFAULT_SET,
                                                      findings="\n".join(f"- {f}" for f in FINDINGS)))


if __name__ == "__main__":
    main()
