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

import importlib.metadata
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
    "transformer_lens": importlib.metadata.version("transformer-lens"),
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
        # attn_out clean (all positions) -> resid_mid / resid_post
        got = cap_run(corrupt, [(hn("attn_out", L), put(hn("attn_out", L)))],
                      [hn("resid_pre", L), hn("resid_post", L), hn("mlp_out", L)]
                      + ([hn("resid_mid", L)] if m.sequential else []))
        want = got[hn("resid_pre", L)] + cc[hn("attn_out", L)] + got[hn("mlp_out", L)]
        check_close(f"{m.name}: patch attn_out L{L} -> resid_post", got[hn("resid_post", L)], want)
        if m.sequential:
            check_close(f"{m.name}: patch attn_out L{L} -> resid_mid", got[hn("resid_mid", L)],
                        got[hn("resid_pre", L)] + cc[hn("attn_out", L)])
            got = cap_run(corrupt, [(hn("resid_mid", L), put(hn("resid_mid", L)))],
                          [hn("mlp_out", L), hn("resid_post", L)])
            check_close(f"{m.name}: patch resid_mid L{L} -> mlp_out", got[hn("mlp_out", L)], cc[hn("mlp_out", L)])
            # The bridge quirk this script works around (own_patch, FD check): a RETURNED hook_resid_mid value
            # feeds ln2 / the MLP only; the residual carried on to resid_post keeps the unpatched value.
            leak = (got[hn("resid_post", L)] - cc[hn("resid_post", L)]).abs().max().item()
            FINDINGS.append(f"{m.name}: returning clean resid_mid L{L} from hook_resid_mid: resid_post differs from "
                            f"clean by {leak:.3g} (0 would mean the residual itself was patched)")
            # in-place writes (what transformer_lens.patching does under no_grad) patch the residual too
            def inplace(t, hook, L=L):
                t[...] = cc[hn("resid_mid", L)]
                return t
            got = cap_run(corrupt, [(hn("resid_mid", L), inplace)], [hn("resid_post", L)])
            check_close(f"{m.name}: in-place resid_mid L{L} -> resid_post", got[hn("resid_post", L)],
                        cc[hn("resid_post", L)])
        # resid_post clean -> next resid_pre / final logits clean
        if L + 1 < m.n_layers:
            got = cap_run(corrupt, [(hn("resid_post", L), put(hn("resid_post", L)))], [hn("resid_pre", L + 1)])
            check_close(f"{m.name}: patch resid_post L{L} -> resid_pre L{L + 1}", got[hn("resid_pre", L + 1)],
                        cc[hn("resid_pre", L + 1)])
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
    FINDINGS.append(f"{m.name}: writing (returning a new value) into bridge hooks z/q/k/v/pattern/resid_pre/"
                    f"{'resid_mid (MLP branch only)/' if m.sequential else ''}attn_out/mlp.hook_post propagates as in "
                    f"HookedTransformer (checked per layer)")


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
    # TransformerLens's cache.accumulated_resid(apply_ln=True): on the unprocessed bridge it applies the whole
    # ln_final (gain and bias included) with each row's own statistics, i.e. exactly the rows used here.
    acc = cache.accumulated_resid(apply_ln=True, incl_mid=False)[:, 0]     # [L+1, T, D]
    with torch.no_grad():
        normed = m.norm(stack)
    d = check_close(f"{m.name}: logit lens rows = TL accumulated_resid(apply_ln=True)", acc, normed, 1e-5)
    FINDINGS.append(f"{m.name}: logit lens: normed rows equal TL cache.accumulated_resid(apply_ln=True) "
                    f"(max |diff| {d:.2g}); last row = model softmax")


README = """# Golden files: probes (patching, attribution, DLA, logit lens)

Generated by `tests/reference/make_probe_goldens.py` (do not edit by hand: this README is rewritten by the script).
Regenerate from the repository root:

    python3 -m venv .venv
    .venv/bin/pip install torch transformers safetensors transformer-lens
    .venv/bin/python tests/reference/make_probe_goldens.py

Versions: torch {torch}, transformers {transformers}, transformer_lens {transformer_lens}; CPU, fp32, eager attention,
2 threads. Deterministic (seeded inputs; re-running reproduces every tensor bit for bit).

One folder per tiny model of `tests/golden/models/` (`gpt2`, `llama_gqa`, `neox_parallel`, `neox_sequential`; load
the weights from there). Each holds:

- `inputs.json`: `tokens` (clean, T = 7), `corrupt_tokens` (differs at positions 2 and 4), `answer_id`, `wrong_id`,
  `receivers` ("L1H0,L1H1": heads 0 and 1 of the last layer), `other_labels` (the rows of `logit_attribution/other`),
  `versions`. Batch size 1; ids in [1, vocab).
- `probes.safetensors`: float32 tensors listed below (metadata: versions). Ids (top tokens) are stored as floats.

## Conventions

- Metric everywhere unless said otherwise: `logit_diff = logits[0, -1, answer_id] - logits[0, -1, wrong_id]`.
- Layers L, heads H, KV heads KV (`llama_gqa`: 4 query heads, 2 KV heads; query head h uses KV head h // 2; the other
  models: KV = H), positions P = 7, MLP width d_mlp. All hook names are TransformerLens names; their values equal
  `tests/golden/models/<model>/expected.safetensors` (checked; that README says which HF module each one is).
- hook_q / hook_k are BEFORE RoPE; hook_k / hook_v have KV heads (not expanded); hook_pattern is post-softmax
  [batch, head, query, key]; hook_z is the input of the output projection, per head.

## Tensors

| name | shape | what | reference |
| --- | --- | --- | --- |
| `metric/clean`, `metric/corrupted` | [1] | logit_diff of the clean / corrupted prompt | bridge forward |
| `activation_patching/resid_pre`, `/resid_post`, `/attn_out`, `/mlp_out` | [L, P] | denoising: run the CORRUPTED tokens, write the CLEAN activation of `blocks.L.hook_<x>` at `[:, pos, :]`, logit_diff | TL `get_act_patch_resid_pre`, `get_act_patch_attn_out`, `get_act_patch_mlp_out`; resid_post: TL `generic_activation_patch` with `layer_pos_patch_setter`, `activation_name="resid_post"` |
| `activation_patching/resid_mid` | [L, P] | same at resid_mid = resid_pre + attn_out (sequential models only; absent for `neox_parallel`) | TL `get_act_patch_resid_mid` (see notes) |
| `activation_patching/z`, `/q` | [L, H] | patch `hook_z` / `hook_q` `[:, :, head, :]` at all positions | TL `get_act_patch_attn_head_out_all_pos`, `..._q_all_pos` |
| `activation_patching/k`, `/v` | [L, KV] | patch `hook_k` / `hook_v` `[:, :, kv_head, :]`: every query head of that group sees it | TL `get_act_patch_attn_head_k_all_pos`, `..._v_all_pos` (TL sizes the head axis with `n_key_value_heads` for k/v) |
| `activation_patching/pattern` | [L, H] | patch `hook_pattern[:, head, :, :]` | TL `get_act_patch_attn_head_pattern_all_pos` |
| `activation_patching/<z,q,k,v>/per_position` | [L, P, H or KV] | patch `hook_<x>[:, pos, head]` | TL `get_act_patch_attn_head_{{out,q,k,v}}_by_pos` |
| `activation_patching/pattern/per_position` | [L, P, H] | patch `hook_pattern[:, head, pos, :]` (pos = query / destination) | TL `get_act_patch_attn_head_pattern_by_pos`, which returns [L, H, dest_pos]: transposed here |
| `activation_patching/block` | [3, L, P] | components resid_pre, attn_out, mlp_out | TL `get_act_patch_block_every` |
| `activation_patching/resid_pre/logprob` | [L, P] | as resid_pre with metric log_softmax(logits[0, -1])[answer_id] | TL `get_act_patch_resid_pre` with a mapping of metrics |
| `activation_patching/resid_pre/prob` | [L, P] | softmax(logits[0, -1])[answer_id] | same |
| `activation_patching/resid_pre/normalized` | [L, P] | (v - corrupted) / (clean - corrupted) of the logit_diff values | from `activation_patching/resid_pre` and `metric/*` |
| `activation_patching/resid_pre/top_token`, `/top_prob` | [L, P, 5] | the 5 most probable next tokens at the last position of each patched run (ids as float), best first | own hook loop |
| `attribution_patching/resid_pre`, `/resid_mid` (sequential only), `/resid_post`, `/attn_out`, `/mlp_out` | [L, P] | sum over d_model of (clean - corrupted) * d logit_diff / d act, gradient taken on the CORRUPTED run | PyTorch autograd through the bridge hooks |
| `attribution_patching/z`, `/q`, `/k`, `/v` | [L, H or KV] | same, summed over positions and d_head | autograd |
| `attribution_patching/<z,q,k,v>/per_position` | [L, P, H or KV] | summed over d_head only | autograd |
| `attribution_patching/pattern` | [L, H] | over hook_pattern, summed over query and key positions | autograd |
| `attribution_patching/pattern/per_position` | [L, P, H] | summed over key positions for query position P | autograd |
| `attribution_patching/neuron` | [L, d_mlp] | over `blocks.L.mlp.hook_post`, summed over positions | autograd |
| `attribution_patching/block` | [3, L, P] | resid_pre, attn_out, mlp_out rows of the above | autograd |
| `path_patching/q`, `/k`, `/v` | [L, H] | per sender head: (1) run CLEAN tokens with the sender's hook_z from the CORRUPTED run and every other head's hook_z (all layers) frozen at its clean value, MLPs and norms recomputed; cache the receivers' hook_q (k/v: the receiver's KV group; the two receivers of `llama_gqa` share KV head 0, patched once); (2) run CLEAN tokens with only those receiver inputs replaced; logit_diff. Senders in the receivers' layer or later: 0 | own hooks on the bridge (ARENA `get_path_patch_head_to_heads` algorithm) |
| `path_patching/logits` | [L, H] | logit_diff of step (1)'s logits (every sender layer counts) | own hooks on the bridge |
| `logit_attribution/heads` | [L, H] | DLA at the last position: (z_h @ W_O[h]) without b_O through the frozen final norm, dot d = W_U[:, answer] - W_U[:, wrong] | clean cache + HF weights |
| `logit_attribution/mlp` | [L] | hook_mlp_out (bias included) | same |
| `logit_attribution/other` | [len(other_labels)] | in this order, those the model has: `embed` (hook_embed), `pos_embed` (gpt2), `attn_bias` (sum over layers of b_O), `final_norm_bias` (beta . d), `unembed_bias` (none of these models has one) | same |
| `logit_attribution/neurons` | [L, d_mlp] | hook_post[n] * W_out[n, :] (no MLP output bias) through the frozen norm | same |
| `logit_attribution/logit_diff` | [1] | the actual clean logit difference; heads + mlp + other sum to it (checked, 1e-4) | bridge forward |
| `logit_lens/top_token`, `/top_prob` | [L + 1, P, 5] | rows: hook_resid_pre of each layer, then resid_post of the last layer; final norm with each row's OWN statistics (gain and bias included), unembedding, softmax; top 5, best first | HF final norm + W_U; rows checked equal to TL `cache.accumulated_resid(apply_ln=True)` |
| `logit_lens/answer_logprob` | [L + 1, P] | log_softmax of answer_id | same |

Frozen norm (DLA): LayerNorm (gpt2, NeoX): f(c) = (c - mean(c)) / sigma * gamma with sigma = sqrt(var(resid_final) + eps),
var the biased variance of the actual final residual at the last position; RMSNorm (Llama): f(c) = c / rms(resid_final)
* gamma with rms = sqrt(mean(resid_final^2) + eps). W_O[h] / W_out come from the HF weights: gpt2 `attn.c_proj` /
`mlp.c_proj` (Conv1D, [in, out]), NeoX `attention.dense` / `mlp.dense_4h_to_h`, Llama `o_proj` / `down_proj`.

Sign convention of attribution patching: denoising, like the activation patching goldens: effect = (clean - corrupted)
. grad at the corrupted run, so it approximates `activation_patching/<x>` - `metric/corrupted`. (METHODS.md also
describes the other direction, (corrupted - clean) . grad at the clean run; that one is not stored.)

## Reference and notes

- Reference model: TransformerLens `TransformerBridge.boot_transformers(folder, hf_model=..., tokenizer=<dummy>)` then
  `enable_compatibility_mode(no_processing=True)`. `no_processing` matters: the default compatibility mode folds the
  norms, centres the writing weights / unembedding and folds the value biases, which changes hook_v, hook_z,
  attn_out, mlp_out and every residual (not the metrics). With `no_processing=True` every hook equals
  expected.safetensors (max |diff| below 3e-6). The models have no tokenizer; the bridge insists on one, so a
  WordLevel tokenizer over "t0".."t{{V-1}}" is saved to a temp folder and re-loaded (TL re-loads it by name_or_path).
- No HF-hook fallback was needed: the bridge matched HF on every hook of every model.
- The bridge's hook objects are named by their canonical names (`blocks.L.hook_in`, `hook_out`, `ln2.hook_in`...):
  `hook.name` inside a hook function is NOT the TL alias (`hook_resid_pre` etc.), so hooks here are bound to names by
  closure. The cache and `run_with_hooks` accept the aliases.
- hook_resid_mid quirk (TL 4.3 bridge): `blocks.L.hook_resid_mid` is the input of ln2. A value RETURNED from a hook
  there reaches only ln2 / the MLP; the residual added to the MLP output keeps the unpatched value. TL's
  `generic_activation_patch` writes IN PLACE when the activation does not require grad (it clones only when
  `requires_grad`), and the in-place write changes the shared residual tensor too, so under `torch.no_grad()` (as
  here) `get_act_patch_resid_mid` gives the true resid_mid patch; with grad enabled it would silently patch the MLP
  input only. The own loop patches resid_mid through hook_attn_out instead (attn_out := clean resid_mid - corrupted
  resid_pre at the patched cells), and the two agree. Gradients taken at hook_resid_mid are the full ones (checked:
  d/d resid_mid = d/d attn_out).
- GQA (`llama_gqa`): TL's k/v patching functions use `n_key_value_heads` for the head axis and patch
  `hook_k[:, :, kv_head]`, i.e. both query heads of that group at once (checked: patching KV head 0 changes z of query
  heads 0 and 1 only).

## Self-checks (the script exits non-zero if one fails)

- Bridge hooks (resid_pre/mid/post, attn_out, mlp_out, q, k, v, pattern, z, mlp.hook_post) and logits equal
  expected.safetensors to 1e-5.
- Writing into a hook changes the downstream computation as in HookedTransformer, per layer: clean z -> clean
  attn_out; clean q, k, v -> clean pattern and z; clean pattern -> z = clean pattern @ corrupted v (GQA-expanded);
  clean resid_pre -> clean final residual; clean mlp.hook_post -> clean mlp_out; clean attn_out -> resid_mid /
  resid_post = resid_pre + attn_out (+ mlp_out); clean resid_post -> clean next resid_pre; KV-head patch touches only
  its group.
- Every TL patching function equals an independent hook loop (1e-5). Patching resid_post of the last layer at the
  last position gives the clean metric; patching an unchanged position of resid_pre gives the corrupted metric.
- Attribution patching: for every hooked activation, central finite differences of the metric along (clean -
  corrupted) (eps 1e-2) equal the sum of its attribution cells (relative 2e-3); d/dz = d/d attn_out @ W_O^T;
  resid_pre layer 0 summed over positions differs from the total effect (it is a linear approximation).
- Path patching: a last-layer sender into `logits` equals plainly noising that head's z; freezing all heads at clean
  gives the clean metric; senders at or after the receiver layer are 0.
- DLA: heads + mlp + other = logit_diff (1e-4); embeddings + head results + biases + MLPs = final residual; per-layer
  neurons + b_out = mlp; head results + b_O = attn_out.
- Logit lens: last row = the model's own softmax; normed rows = TL `accumulated_resid(apply_ln=True)`.

## Findings of the last run

{findings}
"""

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
    (OUT_ROOT / "README.md").write_text(README.format(**VERSIONS, findings="\n".join(f"- {f}" for f in FINDINGS)))


if __name__ == "__main__":
    main()
