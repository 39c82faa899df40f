#!/usr/bin/env python3
"""Goldens for the C++ SAE core (core/sae/sae.cpp, core/sae/sae_io.cpp, tests/core/test_sae.cpp).

Reference: pip `sae-lens` 6.54.12 (its `StandardSAE`, `TopKSAE`, `JumpReLUSAE`, `SAE.save_model` and
`SAE.load_from_disk`). Writes, under tests/golden/sae/:

  <name>/cfg.json, <name>/sae_weights.safetensors
        one small random SAE per folder (d_in 16, d_sae 48), every architecture with b_dec /
        normalisation variants (table SAES below), saved by SAELens' own `save_model` (the 6.x
        layout: hook_name, model_name … under "metadata"); the `flat_*` folders are in the older
        flat cfg.json layout (hook_name / hook_point, hook_layer, activation_fn_str,
        activation_fn_kwargs {"k": K}, normalize_activations as a bool …), written by hand and
        checked to load in SAELens 6.54 (`handle_pre_6_0_config`).
  outputs.safetensors
        `x` [2, 5, 16] (the inputs, shared by every SAE) and for each SAE `<name>.acts`
        [2, 5, 48] (SAE.encode) and `<name>.recon` [2, 5, 16] (SAE.decode of those acts), float32,
        computed by SAELens on the SAE as `SAE.load_from_disk` reads it back from its folder.
  README.md (rewritten by this script).

Biases and thresholds are random and non-trivial, chosen so that the latent activations are neither
all zero nor all active (checked below), and so that the topk SAEs have positions where fewer than
k pre-activations are positive (SAELens applies ReLU to the k kept values).

Check mode: `make_sae_goldens.py --check DIR` loads every SAE folder under DIR (e.g. folders the C++
`save_sae` wrote, named like the goldens) with `SAE.load_from_disk` and compares its encode/decode of
`x` with outputs.safetensors (max abs difference ≤ 1e-5 required). The C++ round-trip test keeps its
saves when asked:

    MECHSCOPE_KEEP_SAE_SAVES=/tmp/sae_saves build/tests/test_core "SAE save-then-load*"
    .venv-sae/bin/python tests/reference/make_sae_goldens.py --check /tmp/sae_saves/v6
    .venv-sae/bin/python tests/reference/make_sae_goldens.py --check /tmp/sae_saves/flat

Python is reference tooling only; the C++ tests never run it. Run from the repository root:

    .venv-sae/bin/python tests/reference/make_sae_goldens.py

Deterministic (seeded); takes a few seconds.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_io import save_golden  # noqa: E402

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

import sae_lens  # noqa: E402
from sae_lens import (  # noqa: E402
    SAE, JumpReLUSAE, JumpReLUSAEConfig, StandardSAE, StandardSAEConfig, TopKSAE, TopKSAEConfig,
)
from sae_lens.saes.sae import SAEMetadata  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "sae"
D_IN = 16
D_SAE = 48
SEED = 4242
MODEL_NAME = "mechscope-tiny-text"

# name: (architecture, apply_b_dec_to_input, normalize_activations, extra config, hook name)
SAES = {
    "standard": ("standard", True, "none", {}, "blocks.1.hook_resid_pre"),
    "standard_no_bdec": ("standard", False, "none", {}, "blocks.1.hook_resid_pre"),
    "standard_cnr": ("standard", True, "constant_norm_rescale", {}, "blocks.2.hook_resid_post"),
    "standard_layer_norm": ("standard", True, "layer_norm", {}, "blocks.0.hook_mlp_out"),
    "standard_expected_avg": ("standard", False, "expected_average_only_in", {},
                              "blocks.1.hook_resid_pre"),
    "standard_whitening": ("standard", True, "covariance_whitening", {}, "blocks.1.hook_resid_pre"),
    "topk": ("topk", True, "none", {"k": 6}, "blocks.3.hook_resid_pre"),
    "topk_no_bdec_layer_norm": ("topk", False, "layer_norm", {"k": 5}, "blocks.3.hook_resid_pre"),
    "topk_rescale": ("topk", True, "none", {"k": 7, "rescale_acts_by_decoder_norm": True},
                     "blocks.1.hook_resid_pre"),
    "topk_rescale_cnr": ("topk", False, "constant_norm_rescale",
                         {"k": 9, "rescale_acts_by_decoder_norm": True}, "blocks.1.hook_resid_pre"),
    "jumprelu": ("jumprelu", True, "none", {}, "blocks.2.hook_resid_pre"),
    "jumprelu_no_bdec_cnr": ("jumprelu", False, "constant_norm_rescale", {}, "blocks.2.hook_resid_pre"),
    "jumprelu_layer_norm": ("jumprelu", True, "layer_norm", {}, "blocks.2.hook_resid_pre"),
}

# Old flat cfg.json layouts (SAELens < 6), written by hand with the weights of a fresh random SAE.
# name: (cfg.json without d_in / d_sae, the architecture SAELens 6 makes of it)
FLAT = {
    "flat_relu": ({
        "architecture": "standard", "hook_name": "blocks.1.hook_resid_pre", "hook_layer": 1,
        "hook_head_index": None, "activation_fn_str": "relu", "activation_fn_kwargs": {},
        "apply_b_dec_to_input": True, "finetuning_scaling_factor": False,
        "normalize_activations": False, "model_name": MODEL_NAME, "context_size": 128,
        "prepend_bos": True, "dataset_path": "mechscope/tasks", "dtype": "float32", "device": "cpu",
        "sae_lens_training_version": "3.12.0", "neuronpedia_id": None,
    }, "standard"),
    "flat_topk": ({
        "architecture": "standard", "hook_point": "blocks.3.hook_resid_pre", "hook_point_layer": 3,
        "hook_point_head_index": None, "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 8},
        "apply_b_dec_to_input": False, "normalize_activations": "none", "model_name": MODEL_NAME,
        "context_size": 64, "dtype": "float32", "device": "cpu", "sae_lens_version": "4.4.1",
    }, "topk"),
    "flat_jumprelu": ({
        "architecture": "jumprelu", "hook_name": "blocks.2.hook_resid_pre", "hook_layer": 2,
        "activation_fn_str": "relu", "apply_b_dec_to_input": False,
        "normalize_activations": "layer_norm", "model_name": MODEL_NAME, "dtype": "float32",
        "device": "cpu", "sae_lens_version": "5.9.0",
    }, "jumprelu"),
}


def fail(msg: str) -> None:
    print("make_sae_goldens: " + msg, file=sys.stderr)
    sys.exit(1)


def make_sae(arch: str, apply_b_dec: bool, norm: str, extra: dict, hook: str, gen: torch.Generator):
    meta = SAEMetadata(model_name=MODEL_NAME, hook_name=hook, hook_head_index=None,
                       context_size=128, prepend_bos=True, dataset_path="mechscope/tasks")
    common = dict(d_in=D_IN, d_sae=D_SAE, apply_b_dec_to_input=apply_b_dec,
                  normalize_activations=norm, metadata=meta)
    if arch == "standard":
        sae = StandardSAE(StandardSAEConfig(**common))
    elif arch == "topk":
        sae = TopKSAE(TopKSAEConfig(**common, **extra))
    else:
        sae = JumpReLUSAE(JumpReLUSAEConfig(**common))
    randomize(sae, arch, gen)
    return sae


def randomize(sae, arch: str, gen: torch.Generator) -> None:
    """Random weights with non-trivial biases (and decoder rows of unequal norms)."""
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(D_IN, D_SAE, generator=gen) * 0.4)
        sae.W_dec.copy_(torch.randn(D_SAE, D_IN, generator=gen) * 0.3
                        * (0.5 + torch.rand(D_SAE, 1, generator=gen)))
        sae.b_dec.copy_(torch.randn(D_IN, generator=gen) * 0.5)
        b_enc = torch.randn(D_SAE, generator=gen) * 0.5 - 0.3
        if arch == "topk":
            # 16 live latents, the others far below: positions where fewer than k pre-activations
            # are positive (ReLU zeroes some of the k kept) occur next to positions with k.
            dead = torch.randperm(D_SAE, generator=gen)[16:]
            b_enc[dead] -= 5.0
        sae.b_enc.copy_(b_enc)
        if arch == "jumprelu":
            sae.threshold.copy_(torch.rand(D_SAE, generator=gen) * 1.5)


def inputs(gen: torch.Generator) -> torch.Tensor:
    """[2, 5, 16]: activations of varied norms (2 … 8) with a non-zero mean per vector."""
    x = torch.randn(2, 5, D_IN, generator=gen)
    x = x * (0.5 + 1.5 * torch.rand(2, 5, 1, generator=gen)) + 0.3 * torch.randn(2, 5, 1, generator=gen)
    return x


def run(sae, x: torch.Tensor):
    with torch.no_grad():
        acts = sae.encode(x)
        recon = sae.decode(acts)
    # decode of the normalising SAEs needs encode's statistics: check against forward as well.
    with torch.no_grad():
        fwd = sae(x)
    if (fwd - recon).abs().max() > 0:
        fail("SAE.forward differs from decode(encode(x))")
    return acts, recon


def check_sparsity(name: str, arch: str, acts: torch.Tensor, k: int | None) -> None:
    if arch == "topk":
        n = (acts != 0).sum(-1)
        if n.max().item() != k or n.min().item() >= k or n.min().item() == 0:
            fail(f"{name}: topk counts {n.tolist()} should reach k = {k}, sometimes fewer, never 0")
        return
    active = (acts != 0).float().mean().item()
    if not 0.05 < active < 0.8:
        fail(f"{name}: {active:.2f} of the latents are active; expected a mix")


def write_flat(name: str, cfg: dict, arch: str, gen: torch.Generator, folder: Path) -> None:
    k = cfg.get("activation_fn_kwargs", {}).get("k")
    norm = cfg["normalize_activations"]
    norm = {False: "none", True: "expected_average_only_in"}.get(norm, norm)
    hook = cfg.get("hook_name", cfg.get("hook_point"))
    sae = make_sae(arch, cfg["apply_b_dec_to_input"], norm, {"k": k} if k else {}, hook, gen)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k2: v.contiguous() for k2, v in sae.state_dict().items()},
              str(folder / "sae_weights.safetensors"))
    full = {"d_in": D_IN, "d_sae": D_SAE, **cfg}
    (folder / "cfg.json").write_text(json.dumps(full, indent=2) + "\n")


def generate() -> None:
    warnings.simplefilter("ignore")
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    x = inputs(gen)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    tensors = {"x": x}
    for name, (arch, apply_b_dec, norm, extra, hook) in SAES.items():
        sae = make_sae(arch, apply_b_dec, norm, extra, hook, gen)
        sae.save_model(OUT / name)
    for name, (cfg, arch) in FLAT.items():
        write_flat(name, cfg, arch, gen, OUT / name)
    for name in list(SAES) + list(FLAT):
        sae = SAE.load_from_disk(OUT / name)  # every folder as SAELens reads it back
        arch = SAES[name][0] if name in SAES else FLAT[name][1]
        if sae.cfg.architecture() != arch:
            fail(f"{name}: SAELens reads architecture {sae.cfg.architecture()}, expected {arch}")
        acts, recon = run(sae, x)
        check_sparsity(name, arch, acts, getattr(sae.cfg, "k", None))
        tensors[f"{name}.acts"] = acts
        tensors[f"{name}.recon"] = recon
    versions = {"sae_lens": sae_lens.__version__, "torch": torch.__version__}
    save_golden(OUT / "outputs.safetensors", tensors, versions)
    write_readme(versions)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {len(SAES) + len(FLAT)} SAEs to {OUT} ({total} bytes)")
    if total > 300_000:
        fail(f"the goldens take {total} bytes; keep them under 300 KB")


def check(folder: Path) -> None:
    """Loads every SAE folder under `folder` with SAELens and compares it with the goldens."""
    warnings.simplefilter("ignore")
    golden = load_file(str(OUT / "outputs.safetensors"))
    x = golden["x"]
    n = 0
    for sub in sorted(p for p in folder.iterdir() if (p / "cfg.json").exists()):
        name = sub.name
        if f"{name}.acts" not in golden:
            print(f"{name}: no golden of that name, skipped")
            continue
        sae = SAE.load_from_disk(sub)
        acts, recon = run(sae, x)
        da = (acts - golden[f"{name}.acts"]).abs().max().item()
        dr = (recon - golden[f"{name}.recon"]).abs().max().item()
        print(f"{name}: SAELens {sae.cfg.architecture()} k={getattr(sae.cfg, 'k', '-')} "
              f"hook={sae.cfg.metadata.hook_name} max|Δacts|={da:.2e} max|Δrecon|={dr:.2e}")
        if da > 1e-5 or dr > 1e-5:
            fail(f"{sub}: SAELens' outputs differ from the goldens")
        n += 1
    if n == 0:
        fail(f"no SAE folder with a golden name under {folder}")
    print(f"{n} folders load in SAELens {sae_lens.__version__} and match the goldens")


def write_readme(versions: dict) -> None:
    rows = "\n".join(
        f"| `{name}` | {arch} | {apply} | {norm} | {json.dumps(extra) if extra else ''} | `{hook}` |"
        for name, (arch, apply, norm, extra, hook) in SAES.items())
    flat_rows = "\n".join(
        f"| `{name}` | {arch} | `{json.dumps({k: v for k, v in cfg.items() if k in ('architecture', 'activation_fn_str', 'activation_fn_kwargs', 'normalize_activations', 'apply_b_dec_to_input')})}` |"
        for name, (cfg, arch) in FLAT.items())
    text = f"""# Golden files: sparse autoencoders (SAELens folders, encode / decode)

Generated by `tests/reference/make_sae_goldens.py` (do not edit by hand: this README is rewritten by
the script). Regenerate from the repository root:

    .venv-sae/bin/python tests/reference/make_sae_goldens.py

Versions: sae_lens {versions['sae_lens']}, torch {versions['torch']}; CPU, float32. Deterministic.

Each folder is an SAELens SAE folder (`cfg.json`, `sae_weights.safetensors`) with d_in {D_IN},
d_sae {D_SAE} and random non-trivial weights, biases and thresholds. `outputs.safetensors` holds
`x` [2, 5, {D_IN}] and, for every folder `NAME`, `NAME.acts` [2, 5, {D_SAE}] = SAELens `encode(x)`
and `NAME.recon` [2, 5, {D_IN}] = `decode(encode(x))`, computed on the SAE as
`SAE.load_from_disk(NAME)` reads it.

SAELens 6.x layout (written by `SAE.save_model`):

| folder | architecture | apply_b_dec_to_input | normalize_activations | extra | hook |
|---|---|---|---|---|---|
{rows}

Older flat layout (written by hand; SAELens 6 converts it with `handle_pre_6_0_config`):

| folder | SAELens 6 architecture | cfg.json (excerpt) |
|---|---|---|
{flat_rows}

At inference SAELens 6.54 applies `constant_norm_rescale` (x·√d_in/‖x‖, undone on the output) and
`layer_norm` ((x−μ)/(σ+1e-5) with σ the unbiased std, output ·σ + μ); `none`,
`expected_average_only_in` and `covariance_whitening` are identities (their factors are folded
into the weights when training ends). `rescale_acts_by_decoder_norm` multiplies the topk
pre-activations by ‖W_dec[i]‖ and divides the kept activations by it before decoding.
"""
    (OUT / "README.md").write_text(text)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(Path(sys.argv[2]))
    elif len(sys.argv) == 1:
        generate()
    else:
        fail("usage: make_sae_goldens.py [--check DIR]")
