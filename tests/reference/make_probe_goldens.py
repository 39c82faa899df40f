#!/usr/bin/env python3
"""Golden files for the C++ probes: activation / attribution / path patching, direct logit attribution, logit lens.

What it writes (tensor list and conventions in tests/golden/probes/README.md):

    tests/golden/probes/<model>/inputs.json          tokens, corrupt_tokens, answer_id, wrong_id, receivers, other_labels,
                                                     versions
    tests/golden/probes/<model>/probes.safetensors   every probe result, float32

for the tiny random models of tests/golden/models/{gpt2,llama_gqa,neox_parallel,neox_sequential}.

Reference: TransformerLens 4.x `TransformerBridge` wrapped around the Hugging Face model, in compatibility mode WITHOUT
weight processing (`enable_compatibility_mode(no_processing=True)`), so that every TL hook holds the same numbers as the
HF model (checked against tests/golden/models/<model>/expected.safetensors before anything else). Activation patching
uses the functions of `transformer_lens.patching`; attribution patching uses PyTorch autograd through the bridge's
hooks; path patching, DLA and the logit lens are written out here (hooks on the bridge, weights from the HF model).
Everything is cross-checked (see `self-checks` in the README) and the script exits non-zero if a check fails.

Python is reference tooling only; the C++ tests never run it. Setup (no hub access is needed or used):

    python3 -m venv .venv
    .venv/bin/pip install torch transformers safetensors transformer-lens
    .venv/bin/python tests/reference/make_probe_goldens.py        # from the repository root

Made with torch 2.15.0, transformers 5.24.0, transformer_lens 4.3.0 (CPU, fp32, eager attention); the versions are
recorded in inputs.json and in the safetensors metadata. Deterministic; takes about a minute on 2 cores.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import warnings  # noqa: E402
import logging  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
import transformer_lens  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from tokenizers import Tokenizer, models as tk_models, pre_tokenizers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402
from transformer_lens import patching as tlp  # noqa: E402
from transformer_lens.model_bridge import TransformerBridge  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_io import save_golden  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()
warnings.filterwarnings("ignore")
logging.getLogger().setLevel(logging.ERROR)

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "tests" / "golden" / "models"
OUT_ROOT = REPO / "tests" / "golden" / "probes"

MODEL_NAMES = ["gpt2", "llama_gqa", "neox_parallel", "neox_sequential"]
T = 7
CORRUPT_POSITIONS = (2, 4)
TOPK = 5
HOOK_TOL = 1e-5         # bridge hooks vs expected.safetensors
TOL = 1e-5              # identities that hold exactly up to fp32 rounding
FD_EPS = 1e-2           # central finite differences for the attribution-patching gradient check

torch.set_num_threads(min(2, os.cpu_count() or 1))
torch.manual_seed(0)

VERSIONS = {
    "torch": torch.__version__,
    "transformers": transformers.__version__,
    "transformer_lens": getattr(transformer_lens, "__version__", "unknown"),
}
FINDINGS: list[str] = []


def fail(msg: str) -> None:
    raise SystemExit(f"CHECK FAILED: {msg}")


def check_close(name: str, a, b, tol: float = TOL) -> float:
    a = torch.as_tensor(a, dtype=torch.float32)
    b = torch.as_tensor(b, dtype=torch.float32)
    if a.shape != b.shape:
        fail(f"{name}: shape {tuple(a.shape)} vs {tuple(b.shape)}")
    d = (a - b).abs().max().item() if a.numel() else 0.0
    if not d <= tol:
        fail(f"{name}: max |diff| {d:.3g} > {tol:.3g}")
    return d


# --------------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------------
def dummy_tokenizer(vocab: int):
    """The bridge wants a tokenizer; the goldens have none (inputs are ids). A WordLevel one, saved and reloaded so
    that TL's BOS handling (which re-loads it from name_or_path) works offline."""
    tk = Tokenizer(tk_models.WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="t0", pad_token="t0", bos_token="t1",
                                   eos_token="t2")
    td = tempfile.mkdtemp(prefix="probe_tok_")
    fast.save_pretrained(td)
    return AutoTokenizer.from_pretrained(td)


def load_hf(folder: Path):
    m = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, attn_implementation="eager")
    return m.eval()


class Model:
    """The bridge (hooks) plus the raw weights needed for DLA / logit lens, read from a separate HF copy (the bridge
    replaces submodules of the HF model it wraps)."""

    def __init__(self, name: str):
        self.name = name
        folder = MODELS / name
        ref = load_hf(folder)
        self.ref = ref
        cfg = ref.config
        self.family = cfg.model_type  # gpt2 | gpt_neox | llama
        self.vocab = cfg.vocab_size
        hf = load_hf(folder)
        b = TransformerBridge.boot_transformers(str(folder), hf_model=hf, tokenizer=dummy_tokenizer(self.vocab))
        b.enable_compatibility_mode(disable_warnings=True, no_processing=True)
        b.eval()
        for p in b.parameters():
            p.requires_grad_(True)
        self.b = b
        self.n_layers = b.cfg.n_layers
        self.n_heads = b.cfg.n_heads
        self.n_kv = b.cfg.n_key_value_heads or b.cfg.n_heads
        self.d_head = b.cfg.d_head
        self.d_model = b.cfg.d_model
        self.d_mlp = b.cfg.d_mlp
        self.parallel = bool(getattr(cfg, "use_parallel_residual", False))
        self.sequential = not self.parallel

        H, Dh, D = self.n_heads, self.d_head, self.d_model
        self.W_O, self.b_O, self.W_out, self.b_out = [], [], [], []
        if self.family == "gpt2":
            tr = ref.transformer
            for blk in tr.h:
                self.W_O.append(blk.attn.c_proj.weight.detach().view(H, Dh, D))     # Conv1D [in, out]
                self.b_O.append(blk.attn.c_proj.bias.detach())
                self.W_out.append(blk.mlp.c_proj.weight.detach())                    # [d_mlp, D]
                self.b_out.append(blk.mlp.c_proj.bias.detach())
            self.norm = tr.ln_f
            self.norm_kind = "layernorm"
        elif self.family == "gpt_neox":
            tr = ref.gpt_neox
            for blk in tr.layers:
                self.W_O.append(blk.attention.dense.weight.detach().T.reshape(H, Dh, D))
                self.b_O.append(blk.attention.dense.bias.detach())
                self.W_out.append(blk.mlp.dense_4h_to_h.weight.detach().T)
                self.b_out.append(blk.mlp.dense_4h_to_h.bias.detach())
            self.norm = tr.final_layer_norm
            self.norm_kind = "layernorm"
        elif self.family == "llama":
            tr = ref.model
            for blk in tr.layers:
                self.W_O.append(blk.self_attn.o_proj.weight.detach().T.reshape(H, Dh, D))
                self.b_O.append(None if blk.self_attn.o_proj.bias is None else blk.self_attn.o_proj.bias.detach())
                self.W_out.append(blk.mlp.down_proj.weight.detach().T)
                self.b_out.append(None if blk.mlp.down_proj.bias is None else blk.mlp.down_proj.bias.detach())
            self.norm = tr.norm
            self.norm_kind = "rmsnorm"
        else:
            fail(f"{name}: unknown family {self.family}")
        head = ref.get_output_embeddings()
        self.W_U = head.weight.detach().T                                            # [D, V]
        self.b_U = None if getattr(head, "bias", None) is None else head.bias.detach()
        self.gamma = self.norm.weight.detach()
        self.beta = None if getattr(self.norm, "bias", None) is None else self.norm.bias.detach()
        self.eps = getattr(self.norm, "eps", None) or getattr(self.norm, "variance_epsilon", None)
        self.has_pos_embed = self.family == "gpt2"

    # forward with TL hooks -----------------------------------------------------------------------------------
    def run(self, tokens, hooks=()):
        with torch.no_grad():
            return self.b.run_with_hooks(tokens, fwd_hooks=list(hooks)).detach()

    def run_with_cache(self, tokens):
        with torch.no_grad():
            logits, cache = self.b.run_with_cache(tokens)
        return logits.detach(), cache

    def unembed(self, x):
        y = x @ self.W_U
        return y if self.b_U is None else y + self.b_U


def hn(kind: str, L: int) -> str:
    """TL hook name."""
    return {
        "resid_pre": f"blocks.{L}.hook_resid_pre", "resid_mid": f"blocks.{L}.hook_resid_mid",
        "resid_post": f"blocks.{L}.hook_resid_post", "attn_out": f"blocks.{L}.hook_attn_out",
        "mlp_out": f"blocks.{L}.hook_mlp_out", "z": f"blocks.{L}.attn.hook_z", "q": f"blocks.{L}.attn.hook_q",
        "k": f"blocks.{L}.attn.hook_k", "v": f"blocks.{L}.attn.hook_v", "pattern": f"blocks.{L}.attn.hook_pattern",
        "post": f"blocks.{L}.mlp.hook_post",
    }[kind]


# --------------------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------------------
def make_metrics(answer: int, wrong: int):
    def logit_diff(logits):
        return logits[0, -1, answer] - logits[0, -1, wrong]

    def logprob(logits):
        return torch.log_softmax(logits[0, -1].double(), -1)[answer].float()

    def prob(logits):
        return torch.softmax(logits[0, -1].double(), -1)[answer].float()

    return logit_diff, logprob, prob


# --------------------------------------------------------------------------------------------------------------
# Checks of the reference itself
# --------------------------------------------------------------------------------------------------------------
def check_hooks_vs_expected(m: Model) -> None:
    exp = load_file(str(MODELS / m.name / "expected.safetensors"))
    logits, cache = m.run_with_cache(exp["input_ids"])
    worst = check_close(f"{m.name}: bridge logits vs expected", logits, exp["logits"], HOOK_TOL)
    n = 0
    for L in range(m.n_layers):
        for kind in ("resid_pre", "resid_post", "attn_out", "mlp_out", "z", "q", "k", "v", "pattern", "post"):
            k = hn(kind, L)
            worst = max(worst, check_close(f"{m.name}: bridge {k} vs expected", cache[k], exp[k], HOOK_TOL))
            n += 1
        if m.sequential:
            k = hn("resid_mid", L)
            want = exp[hn("resid_pre", L)] + exp[hn("attn_out", L)]
            worst = max(worst, check_close(f"{m.name}: bridge {k} vs resid_pre + attn_out", cache[k], want, HOOK_TOL))
            n += 1
    FINDINGS.append(f"{m.name}: {n} bridge hooks + logits equal expected.safetensors, max |diff| {worst:.2g}")


def check_patch_semantics(m: Model, clean, corrupt, clean_cache) -> None:
    """Writing into a bridge hook must change the downstream computation the way TL's HookedTransformer would."""
    cc = clean_cache

    def cap_run(tokens, hooks, names):
        got = {}

        def cap(n):
            def f(t, hook):
                got[n] = t.detach().clone()
            return f
        m.run(tokens, list(hooks) + [(n, cap(n)) for n in names])
        return got

    def put(name):
        return lambda t, hook: cc[name].clone()

    for L in range(m.n_layers):
        # all heads' z clean -> attn_out clean
        got = cap_run(corrupt, [(hn("z", L), put(hn("z", L)))], [hn("attn_out", L)])
        check_close(f"{m.name}: patch z L{L} -> attn_out", got[hn("attn_out", L)], cc[hn("attn_out", L)])
        # q, k, v clean -> pattern and z clean
        got = cap_run(corrupt, [(hn(x, L), put(hn(x, L))) for x in "qkv"], [hn("pattern", L), hn("z", L)])
        check_close(f"{m.name}: patch qkv L{L} -> pattern", got[hn("pattern", L)], cc[hn("pattern", L)])
        check_close(f"{m.name}: patch qkv L{L} -> z", got[hn("z", L)], cc[hn("z", L)])
        # pattern clean -> z = clean pattern @ corrupted v (GQA: query head h reads KV head h // group)
        got = cap_run(corrupt, [(hn("pattern", L), put(hn("pattern", L)))], [hn("v", L), hn("z", L)])
        v = got[hn("v", L)].repeat_interleave(m.n_heads // m.n_kv, dim=2)           # [1, T, H, Dh]
        want = torch.einsum("bhqk,bkhd->bqhd", cc[hn("pattern", L)], v)
        check_close(f"{m.name}: patch pattern L{L} -> z", got[hn("z", L)], want)
        # resid_pre clean -> everything downstream clean
        got = cap_run(corrupt, [(hn("resid_pre", L), put(hn("resid_pre", L)))], [hn("resid_post", m.n_layers - 1)])
        check_close(f"{m.name}: patch resid_pre L{L} -> final resid", got[hn("resid_post", m.n_layers - 1)],
                    cc[hn("resid_post", m.n_layers - 1)])
        # mlp.hook_post clean -> mlp_out clean
        got = cap_run(corrupt, [(hn("post", L), put(hn("post", L)))], [hn("mlp_out", L)])
        check_close(f"{m.name}: patch mlp.hook_post L{L} -> mlp_out", got[hn("mlp_out", L)], cc[hn("mlp_out", L)])
        if m.sequential:
            got = cap_run(corrupt, [(hn("resid_mid", L), put(hn("resid_mid", L)))], [hn("mlp_out", L)])
            check_close(f"{m.name}: patch resid_mid L{L} -> mlp_out", got[hn("mlp_out", L)], cc[hn("mlp_out", L)])
        # one KV head: only the query heads of its group change
        if m.n_kv != m.n_heads:
            got = cap_run(corrupt, [], [hn("z", L)])
            z_corr = got[hn("z", L)]
            g = m.n_heads // m.n_kv

            def put_kv0(name):
                def f(t, hook):
                    t = t.clone()
                    t[:, :, 0] = cc[name][:, :, 0]
                    return t
                return f
            got = cap_run(corrupt, [(hn("k", L), put_kv0(hn("k", L))), (hn("v", L), put_kv0(hn("v", L)))],
                          [hn("z", L)])
            changed = [(got[hn("z", L)][0, 1:, h] - z_corr[0, 1:, h]).abs().max().item() > 1e-6
                       for h in range(m.n_heads)]
            if changed != [h < g for h in range(m.n_heads)]:
                fail(f"{m.name}: GQA kv-head 0 patch changed query heads {changed}")
    FINDINGS.append(f"{m.name}: writing into bridge hooks z/q/k/v/pattern/resid_pre/resid_mid/mlp.hook_post "
                    f"propagates as in HookedTransformer (checked per layer)")


# --------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------
def choose_inputs(m: Model, seed: int):
    for attempt in range(100):
        g = torch.Generator().manual_seed(seed + attempt)
        clean = torch.randint(1, m.vocab, (1, T), generator=g)
        corrupt = clean.clone()
        for p in CORRUPT_POSITIONS:
            while corrupt[0, p] == clean[0, p]:
                corrupt[0, p] = torch.randint(1, m.vocab, (1,), generator=g)
        lc = m.run(clean)[0, -1]
        lx = m.run(corrupt)[0, -1]
        answer = int(lc.argmax())
        wrong = int(lx.argmax())
        if wrong == answer:
            wrong = int(lc.topk(2).indices[1])
        ld_c = (lc[answer] - lc[wrong]).item()
        ld_x = (lx[answer] - lx[wrong]).item()
        if abs(ld_c) > 0.5 and abs(ld_c - ld_x) > 0.5:
            FINDINGS.append(f"{m.name}: inputs from seed {seed + attempt}: logit_diff clean {ld_c:.4f}, "
                            f"corrupted {ld_x:.4f}")
            return clean, corrupt, answer, wrong
    fail(f"{m.name}: no usable inputs")


# --------------------------------------------------------------------------------------------------------------
# Activation patching
# --------------------------------------------------------------------------------------------------------------
get_act_patch_resid_post = partial(tlp.generic_activation_patch, patch_setter=tlp.layer_pos_patch_setter,
                                   activation_name="resid_post", index_axis_names=("layer", "pos"))


def own_patch(m: Model, corrupt, clean_cache, metric, kind, shape, setter, corrupt_cache=None):
    """Plain loop, same semantics as transformer_lens.patching.generic_activation_patch; every index tuple starts with
    the layer. Returns the metric per index (or whatever `metric` returns, stacked). The hook returns a patched copy.

    resid_mid is patched through hook_attn_out instead (attn_out := clean resid_mid - corrupted resid_pre at the
    patched cells): a value RETURNED from the bridge's hook_resid_mid (an alias of ln2.hook_in) only reaches the MLP
    branch, not the residual stream carried on to resid_post (see README)."""
    out = []
    for idx in torch.cartesian_prod(*[torch.arange(n) for n in shape]).view(-1, len(shape)).tolist():
        name = hn(kind, idx[0])
        src = clean_cache[name]
        if kind == "resid_mid":
            src = clean_cache[name] - corrupt_cache[hn("resid_pre", idx[0])]
            name = hn("attn_out", idx[0])

        def hook(t, hook, idx=idx, src=src):
            t = t.clone()
            setter(t, src, idx)
            return t
        out.append(metric(m.run(corrupt, [(name, hook)])))
    return torch.stack(out).view(*shape, *out[0].shape)


def set_pos(t, c, idx):
    t[:, idx[1]] = c[:, idx[1]]


def set_head(t, c, idx):
    t[:, :, idx[1]] = c[:, :, idx[1]]


def set_pos_head(t, c, idx):
    t[:, idx[1], idx[2]] = c[:, idx[1], idx[2]]


def set_pattern_head(t, c, idx):
    t[:, idx[1]] = c[:, idx[1]]


def set_pattern_pos_head(t, c, idx):    # idx = layer, query pos, head
    t[:, idx[2], idx[1], :] = c[:, idx[2], idx[1], :]


def activation_patching(m: Model, clean, corrupt, clean_cache, corrupt_cache, metrics, ld_clean, ld_corr, out):
    logit_diff, logprob, prob = metrics
    nL, nH, nKV = m.n_layers, m.n_heads, m.n_kv

    def both(label, tl_value, own_value):
        d = check_close(f"{m.name}: activation_patching/{label}: TL function vs own loop", tl_value, own_value)
        out[f"activation_patching/{label}"] = tl_value.detach().float()
        return d

    worst = 0.0
    with torch.no_grad():
        pos_fns = {"resid_pre": tlp.get_act_patch_resid_pre, "resid_mid": tlp.get_act_patch_resid_mid,
                   "resid_post": get_act_patch_resid_post, "attn_out": tlp.get_act_patch_attn_out,
                   "mlp_out": tlp.get_act_patch_mlp_out}
        for kind, fn in pos_fns.items():
            if kind == "resid_mid" and not m.sequential:
                continue
            tl = fn(m.b, corrupt, clean_cache, logit_diff)
            own = own_patch(m, corrupt, clean_cache, logit_diff, kind, (nL, T), set_pos, corrupt_cache)
            worst = max(worst, both(kind, tl, own))

        head_fns = {"z": tlp.get_act_patch_attn_head_out_all_pos, "q": tlp.get_act_patch_attn_head_q_all_pos,
                    "k": tlp.get_act_patch_attn_head_k_all_pos, "v": tlp.get_act_patch_attn_head_v_all_pos,
                    "pattern": tlp.get_act_patch_attn_head_pattern_all_pos}
        by_pos_fns = {"z": tlp.get_act_patch_attn_head_out_by_pos, "q": tlp.get_act_patch_attn_head_q_by_pos,
                      "k": tlp.get_act_patch_attn_head_k_by_pos, "v": tlp.get_act_patch_attn_head_v_by_pos,
                      "pattern": tlp.get_act_patch_attn_head_pattern_by_pos}
        for kind in ("z", "q", "k", "v", "pattern"):
            nh = nKV if kind in "kv" else nH
            tl = head_fns[kind](m.b, corrupt, clean_cache, logit_diff)
            own = own_patch(m, corrupt, clean_cache, logit_diff, kind, (nL, nh),
                            set_pattern_head if kind == "pattern" else set_head)
            worst = max(worst, both(kind, tl, own))
            tl = by_pos_fns[kind](m.b, corrupt, clean_cache, logit_diff)
            if kind == "pattern":
                tl = tl.permute(0, 2, 1)          # TL: [layer, head, dest_pos] -> [layer, pos, head]
            own = own_patch(m, corrupt, clean_cache, logit_diff, kind, (nL, T, nh),
                            set_pattern_pos_head if kind == "pattern" else set_pos_head)
            worst = max(worst, both(f"{kind}/per_position", tl, own))

        tl = tlp.get_act_patch_block_every(m.b, corrupt, clean_cache, logit_diff)
        own = torch.stack([out["activation_patching/resid_pre"], out["activation_patching/attn_out"],
                           out["activation_patching/mlp_out"]])
        worst = max(worst, both("block", tl, own))

        # metric variants on resid_pre: TL with a mapping of metrics (one patched forward, several metrics)
        res = tlp.get_act_patch_resid_pre(m.b, corrupt, clean_cache, {"logprob": logprob, "prob": prob})
        vals = res.values   # [metric, layer, pos]
        own_lp = own_patch(m, corrupt, clean_cache, logprob, "resid_pre", (nL, T), set_pos)
        own_p = own_patch(m, corrupt, clean_cache, prob, "resid_pre", (nL, T), set_pos)
        worst = max(worst, both("resid_pre/logprob", vals[list(res.metric_names).index("logprob")], own_lp))
        worst = max(worst, both("resid_pre/prob", vals[list(res.metric_names).index("prob")], own_p))
        out["activation_patching/resid_pre/normalized"] = (
            (out["activation_patching/resid_pre"] - ld_corr) / (ld_clean - ld_corr))

        def top(logits):
            p = torch.softmax(logits[0, -1].double(), -1)
            v, i = p.topk(TOPK)
            return torch.stack([i.double(), v])
        tp = own_patch(m, corrupt, clean_cache, top, "resid_pre", (nL, T), set_pos)   # [L, T, 2, K]
        out["activation_patching/resid_pre/top_token"] = tp[:, :, 0].float()
        out["activation_patching/resid_pre/top_prob"] = tp[:, :, 1].float()

    # self-checks
    rp = out["activation_patching/resid_post"]
    check_close(f"{m.name}: patching resid_post of the last layer at the last position = clean metric",
                rp[-1, -1], ld_clean, 1e-6)
    for L in range(nL):
        check_close(f"{m.name}: patching resid_pre L{L} at pos 0 (same token) = corrupted metric",
                    out["activation_patching/resid_pre"][L, 0], ld_corr, 1e-5)
    check_close(f"{m.name}: patching resid_pre L0 at an unchanged position = corrupted metric",
                out["activation_patching/resid_pre"][0, 1], ld_corr, 1e-5)
    FINDINGS.append(f"{m.name}: activation patching: every TL patching function equals the own hook loop "
                    f"(max |diff| {worst:.2g})")


# --------------------------------------------------------------------------------------------------------------
# Attribution patching
# --------------------------------------------------------------------------------------------------------------
def attribution_patching(m: Model, clean, corrupt, clean_cache, metric, ld_clean, ld_corr, out):
    kinds = ["resid_pre", "resid_post", "attn_out", "mlp_out", "z", "q", "k", "v", "pattern", "post"]
    if m.sequential:
        kinds.append("resid_mid")
    names = [hn(k, L) for k in kinds for L in range(m.n_layers)]
    acts = {}

    def cap(n):
        def f(t, hook):
            acts[n] = t
            return t
        return f

    with torch.enable_grad():
        logits = m.b.run_with_hooks(corrupt, fwd_hooks=[(n, cap(n)) for n in names])
        val = metric(logits)
        grads = torch.autograd.grad(val, [acts[n] for n in names], allow_unused=True)
    check_close(f"{m.name}: grad run metric = corrupted metric", val.detach(), ld_corr)
    grad = {}
    for n, g in zip(names, grads):
        if g is None:
            fail(f"{m.name}: no gradient reached {n}")
        grad[n] = g.detach()
    eff = {n: (clean_cache[n] - acts[n].detach()) * grad[n] for n in names}

    nL = m.n_layers
    for kind in ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out"):
        if kind in kinds:
            out[f"attribution_patching/{kind}"] = torch.stack([eff[hn(kind, L)].sum(-1)[0] for L in range(nL)])
    for kind in ("z", "q", "k", "v"):
        per = torch.stack([eff[hn(kind, L)].sum(-1)[0] for L in range(nL)])     # [L, T, heads]
        out[f"attribution_patching/{kind}"] = per.sum(1)
        out[f"attribution_patching/{kind}/per_position"] = per
    per = torch.stack([eff[hn("pattern", L)].sum(-1)[0].T for L in range(nL)])  # [L, Tq, H]
    out["attribution_patching/pattern"] = per.sum(1)
    out["attribution_patching/pattern/per_position"] = per
    out["attribution_patching/neuron"] = torch.stack([eff[hn("post", L)].sum(1)[0] for L in range(nL)])
    out["attribution_patching/block"] = torch.stack([out["attribution_patching/resid_pre"],
                                                     out["attribution_patching/attn_out"],
                                                     out["attribution_patching/mlp_out"]])

    # self-check 1: central finite differences of the metric along (clean - corrupted) of one whole activation
    # (all positions / heads) = the sum of that layer's attribution cells. Proves the gradient reaches every hook.
    worst_rel = 0.0
    for n in names:
        delta = clean_cache[n] - acts[n].detach()

        def shift(s, delta=delta):
            return lambda t, hook: t + s * delta
        # resid_mid is shifted through attn_out (resid_mid = resid_pre + attn_out; see own_patch)
        hname = n.replace("hook_resid_mid", "hook_attn_out")
        fd = (metric(m.run(corrupt, [(hname, shift(FD_EPS))])) - metric(m.run(corrupt, [(hname, shift(-FD_EPS))]))) / (
            2 * FD_EPS)
        lin = eff[n].sum()
        err = abs(fd.item() - lin.item())
        if err > 2e-3 * (1 + abs(lin.item())):
            fail(f"{m.name}: attribution {n}: finite difference {fd.item():.6g} vs gradient {lin.item():.6g}")
        worst_rel = max(worst_rel, err / (1 + abs(lin.item())))
    # self-check 2: grad identities. z -> attn_out through W_O; resid_mid = resid_pre + attn_out (sequential).
    for L in range(nL):
        gz = torch.einsum("btd,hed->bthe", grad[hn("attn_out", L)], m.W_O[L])
        check_close(f"{m.name}: grad z L{L} = grad attn_out @ W_O^T", grad[hn("z", L)], gz, 1e-5)
        if m.sequential:
            check_close(f"{m.name}: grad resid_mid L{L} = grad attn_out", grad[hn("resid_mid", L)],
                        grad[hn("attn_out", L)], 1e-5)
    # self-check 3: resid_pre layer 0 summed over positions approximates, but does not equal, the total effect
    total = ld_clean - ld_corr
    approx = out["attribution_patching/resid_pre"][0].sum().item()
    if not abs(approx - total) > 1e-4:
        fail(f"{m.name}: attribution of resid_pre L0 equals the total effect exactly ({approx} vs {total}): suspicious")
    FINDINGS.append(f"{m.name}: attribution patching: finite differences agree with autograd on all "
                    f"{len(names)} activations (max err / (1 + |value|) {worst_rel:.2g}); resid_pre L0 summed over "
                    f"positions {approx:.4f} vs total effect {total:.4f} (linear approximation)")


# --------------------------------------------------------------------------------------------------------------
# Path patching (ARENA get_path_patch_head_to_heads, written with hooks)
# --------------------------------------------------------------------------------------------------------------
def parse_receivers(text: str):
    rec = []
    for part in text.split(","):
        L, H = part.strip()[1:].split("H")
        rec.append((int(L), int(H)))
    return rec


def path_patching(m: Model, clean, corrupt, clean_cache, corrupt_cache, metric, receivers, out):
    nL, nH = m.n_layers, m.n_heads
    group = nH // m.n_kv
    first_rec = min(L for L, _ in receivers)

    def step1_hooks(sL, sH):
        hooks = []
        for L in range(nL):
            def freeze(t, hook, L=L):
                n = hn("z", L)
                t = clean_cache[n].clone()
                if L == sL:
                    t[:, :, sH] = corrupt_cache[n][:, :, sH]
                return t
            hooks.append((hn("z", L), freeze))
        return hooks

    res = {c: torch.zeros(nL, nH) for c in ("q", "k", "v", "logits")}
    for sL in range(nL):
        for sH in range(nH):
            got = {}

            def cap(n):
                def f(t, hook):
                    got[n] = t.detach().clone()
                return f
            rec_layers = sorted({L for L, _ in receivers})
            logits1 = m.run(clean, step1_hooks(sL, sH) + [(hn(c, L), cap(hn(c, L))) for L in rec_layers
                                                          for c in "qkv"])
            res["logits"][sL, sH] = metric(logits1)
            if sL >= first_rec:
                continue
            for c in "qkv":
                by_layer = {}
                for L, H in receivers:
                    idx = H if c == "q" else H // group
                    by_layer.setdefault(L, set()).add(idx)

                def patch(L, c):
                    def f(t, hook):
                        t = t.clone()
                        for idx in sorted(by_layer[L]):
                            t[:, :, idx] = got[hn(c, L)][:, :, idx]
                        return t
                    return f
                logits2 = m.run(clean, [(hn(c, L), patch(L, c)) for L in by_layer])
                res[c][sL, sH] = metric(logits2)
    for c in ("q", "k", "v", "logits"):
        out[f"path_patching/{c}"] = res[c]

    # self-checks. Path patching into the logits with a sender in the last layer = activation patching of that
    # head's z with the corrupted value (nothing downstream of it is frozen). Every sender: freezing all heads to
    # clean and patching none gives the clean metric.
    ld_clean = metric(clean_cache_logits[m.name])
    for sH in range(nH):
        def one(t, hook, sH=sH):
            t = t.clone()
            t[:, :, sH] = corrupt_cache[hn("z", nL - 1)][:, :, sH]
            return t
        want = metric(m.run(clean, [(hn("z", nL - 1), one)]))
        check_close(f"{m.name}: path_patching/logits last-layer sender H{sH} = noising patch of its z",
                    res["logits"][nL - 1, sH], want, 1e-5)
    logits_frozen = m.run(clean, [(hn("z", L), lambda t, hook, L=L: clean_cache[hn("z", L)].clone())
                                  for L in range(nL)])
    check_close(f"{m.name}: all heads frozen clean = clean metric", metric(logits_frozen), ld_clean, 1e-5)
    for c in "qkv":
        if res[c][first_rec:].abs().max() != 0:
            fail(f"{m.name}: path_patching/{c}: non-zero sender at/after the receiver layer")
    FINDINGS.append(f"{m.name}: path patching: last-layer senders into logits equal plain noising of their z")


clean_cache_logits: dict[str, torch.Tensor] = {}


# --------------------------------------------------------------------------------------------------------------
# Direct logit attribution
# --------------------------------------------------------------------------------------------------------------
def direct_logit_attribution(m: Model, clean_logits, cache, answer, wrong, out):
    nL = m.n_layers
    d = m.W_U[:, answer] - m.W_U[:, wrong]
    resid = cache[hn("resid_post", nL - 1)][0, -1]
    if m.norm_kind == "layernorm":
        sigma = torch.sqrt(resid.var(unbiased=False) + m.eps)

        def f(c):
            return ((c - c.mean(-1, keepdim=True)) / sigma * m.gamma) @ d
    else:
        rms = torch.sqrt(resid.pow(2).mean() + m.eps)

        def f(c):
            return (c / rms * m.gamma) @ d

    heads, mlp, neurons, comps = [], [], [], []
    for L in range(nL):
        z = cache[hn("z", L)][0, -1]                                   # [H, Dh]
        res = torch.einsum("he,hed->hd", z, m.W_O[L])                  # hook_result without b_O
        heads.append(f(res))
        mo = cache[hn("mlp_out", L)][0, -1]
        mlp.append(f(mo))
        post = cache[hn("post", L)][0, -1]                              # [d_mlp]
        neurons.append(f(post[:, None] * m.W_out[L]))
        comps += [res.sum(0), mo]
        # neuron DLA + MLP output bias = MLP DLA; heads' results + b_O = attn_out
        nb = 0.0 if m.b_out[L] is None else f(m.b_out[L])
        check_close(f"{m.name}: DLA neurons L{L} + b_out = mlp", neurons[-1].sum() + nb, mlp[-1], 1e-4)
        ao = res.sum(0) + (0 if m.b_O[L] is None else m.b_O[L])
        check_close(f"{m.name}: sum of head results L{L} + b_O = attn_out", ao, cache[hn("attn_out", L)][0, -1], 1e-5)
    labels, other = ["embed"], [f(cache["hook_embed"][0, -1])]
    comps.append(cache["hook_embed"][0, -1])
    if m.has_pos_embed:
        labels.append("pos_embed")
        other.append(f(cache["hook_pos_embed"][0, -1]))
        comps.append(cache["hook_pos_embed"][0, -1])
    if any(b is not None for b in m.b_O):
        bsum = sum(b for b in m.b_O if b is not None)
        labels.append("attn_bias")
        other.append(f(bsum))
        comps.append(bsum)
    if m.beta is not None:
        labels.append("final_norm_bias")
        other.append(m.beta @ d)
    if m.b_U is not None:
        labels.append("unembed_bias")
        other.append(m.b_U[answer] - m.b_U[wrong])
    ld = clean_logits[0, -1, answer] - clean_logits[0, -1, wrong]
    check_close(f"{m.name}: residual decomposition (embeds + heads + biases + mlps) = final resid", sum(comps), resid,
                1e-5)
    out["logit_attribution/heads"] = torch.stack(heads)
    out["logit_attribution/mlp"] = torch.stack(mlp)
    out["logit_attribution/other"] = torch.stack(other)
    out["logit_attribution/neurons"] = torch.stack(neurons)
    out["logit_attribution/logit_diff"] = ld.reshape(1)
    total = out["logit_attribution/heads"].sum() + out["logit_attribution/mlp"].sum() + out[
        "logit_attribution/other"].sum()
    check_close(f"{m.name}: DLA heads + mlp + other = logit_diff", total, ld, 1e-4)
    FINDINGS.append(f"{m.name}: DLA sums to the logit difference {ld.item():.5f} (|diff| "
                    f"{abs(total.item() - ld.item()):.2g}); other = {labels}")
    return labels


# --------------------------------------------------------------------------------------------------------------
# Logit lens
# --------------------------------------------------------------------------------------------------------------
def logit_lens(m: Model, clean_logits, cache, answer, out):
    nL = m.n_layers
    rows = [cache[hn("resid_pre", L)][0] for L in range(nL)] + [cache[hn("resid_post", nL - 1)][0]]
    stack = torch.stack(rows)                                           # [L+1, T, D]
    with torch.no_grad():
        logits = m.unembed(m.norm(stack))                               # the HF final norm, own statistics per row
    logp = torch.log_softmax(logits.double(), -1)
    p = logp.exp()
    v, i = p.topk(TOPK, dim=-1)
    out["logit_lens/top_token"] = i.float()
    out["logit_lens/top_prob"] = v.float()
    out["logit_lens/answer_logprob"] = logp[..., answer].float()
    check_close(f"{m.name}: logit lens last row = model softmax", p[-1].float(),
                torch.softmax(clean_logits[0].double(), -1).float(), 1e-6)
    check_close(f"{m.name}: logit lens last row top-1 = model argmax", i[-1, :, 0].float(),
                clean_logits[0].argmax(-1).float(), 0)
    # TransformerLens's accumulated_resid(apply_ln=True): on an unprocessed bridge it applies ln_final's scale
    # (normalisation only, no gain/bias); with the gain and unembedding applied after, it must match.
    try:
        acc = cache.accumulated_resid(apply_ln=True, incl_mid=False)   # [L+1, batch, T, D]
        acc = acc[:, 0] if acc.dim() == 4 else acc
        tl_logits = m.unembed(acc * m.gamma + (0 if m.beta is None else m.beta))
        d = (torch.log_softmax(tl_logits.double(), -1) - logp).abs().max().item()
        FINDINGS.append(f"{m.name}: logit lens vs TL accumulated_resid(apply_ln=True) * gamma + beta: "
                        f"max |diff logprob| {d:.2g}")
    except Exception as e:  # informational only
        FINDINGS.append(f"{m.name}: TL accumulated_resid(apply_ln=True) not usable here: {type(e).__name__}: {e}")


# --------------------------------------------------------------------------------------------------------------
def main() -> None:
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    for mi, name in enumerate(MODEL_NAMES):
        print(f"== {name}", flush=True)
        m = Model(name)
        check_hooks_vs_expected(m)
        clean, corrupt, answer, wrong = choose_inputs(m, 1000 + 100 * mi)
        metrics = make_metrics(answer, wrong)
        logit_diff = metrics[0]
        clean_logits, clean_cache = m.run_with_cache(clean)
        corrupt_logits, corrupt_cache = m.run_with_cache(corrupt)
        clean_cache_logits[name] = clean_logits
        ld_clean = logit_diff(clean_logits)
        ld_corr = logit_diff(corrupt_logits)
        receivers = f"L{m.n_layers - 1}H0,L{m.n_layers - 1}H1"
        check_patch_semantics(m, clean, corrupt, clean_cache)

        out: dict[str, torch.Tensor] = {
            "metric/clean": ld_clean.reshape(1), "metric/corrupted": ld_corr.reshape(1)}
        activation_patching(m, clean, corrupt, clean_cache, corrupt_cache, metrics, ld_clean, ld_corr, out)
        print("   activation patching done", flush=True)
        attribution_patching(m, clean, corrupt, clean_cache, logit_diff, ld_clean, ld_corr, out)
        path_patching(m, clean, corrupt, clean_cache, corrupt_cache, logit_diff, parse_receivers(receivers), out)
        labels = direct_logit_attribution(m, clean_logits, clean_cache, answer, wrong, out)
        logit_lens(m, clean_logits, clean_cache, answer, out)

        for k, t in out.items():
            if not torch.isfinite(t).all():
                fail(f"{name}: {k} not finite")
        d = OUT_ROOT / name
        d.mkdir(parents=True, exist_ok=True)
        inputs = {
            "model": f"tests/golden/models/{name}",
            "tokens": clean[0].tolist(), "corrupt_tokens": corrupt[0].tolist(),
            "answer_id": answer, "wrong_id": wrong, "receivers": receivers, "other_labels": labels,
            "metric": "logit_diff = logits[0, -1, answer_id] - logits[0, -1, wrong_id]",
            "versions": VERSIONS,
        }
        (d / "inputs.json").write_text(json.dumps(inputs, indent=2) + "\n")
        save_golden(d / "probes.safetensors", {k: out[k] for k in sorted(out)},
                    {"model": name, **VERSIONS, "generator": "tests/reference/make_probe_goldens.py"})
        print(f"   wrote {len(out)} tensors: " + ", ".join(f"{k} {tuple(out[k].shape)}" for k in sorted(out)),
              flush=True)
    print("\nfindings:")
    for f in FINDINGS:
        print(" -", f)


if __name__ == "__main__":
    main()
