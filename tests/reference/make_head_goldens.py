#!/usr/bin/env python3
"""Golden file for the C++ head detector (probes/head_scores.h, the `head_detector` probe).

Writes tests/golden/probes/<model>/heads.safetensors and heads.json for the tiny random models of
tests/golden/models/{gpt2,llama_gqa,neox_parallel,neox_sequential}: TransformerLens 4.x
`transformer_lens.head_detector.detect_head` (the library function itself, on the bridge of
make_probe_goldens.py) for the three named head types, both error measures and every combination of
exclude_bos / exclude_current_token, on a list of three repeated sequences (scores averaged over the
list, as detect_head does) and on one prompt alone. heads.json holds the token ids TL ran on.

Setup as make_probe_goldens.py; run from the repository root:

    .venv/bin/python tests/reference/make_head_goldens.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_probe_goldens as base  # noqa: E402
from golden_io import save_golden  # noqa: E402
from transformer_lens.head_detector import detect_head  # noqa: E402

HALF = 6
SEQS = 3


def main() -> None:
    gen = torch.Generator().manual_seed(11)
    for name in base.MODEL_NAMES:
        m = base.Model(name)
        b = m.b
        seqs = []
        for _ in range(SEQS):
            half = torch.randint(3, m.vocab, (HALF,), generator=gen).tolist()
            seqs.append(" ".join(f"t{i}" for i in half + half))
        prompt = " ".join(f"t{i}" for i in torch.randint(3, 12, (10,), generator=gen).tolist())
        tokens = [b.to_tokens(s)[0].tolist() for s in seqs]
        prompt_tokens = b.to_tokens(prompt)[0].tolist()
        out = {}
        for kind in ("previous_token_head", "duplicate_token_head", "induction_head"):
            for measure in ("mul", "abs"):
                for ex_bos in (False, True):
                    for ex_cur in (False, True):
                        key = f"{kind.removesuffix('_head')}.{measure}.bos{int(ex_bos)}.cur{int(ex_cur)}"
                        kw = dict(exclude_bos=ex_bos, exclude_current_token=ex_cur, error_measure=measure)
                        with torch.no_grad():
                            out["repeat." + key] = detect_head(b, seqs, kind, **kw)
                            out["prompt." + key] = detect_head(b, [prompt], kind, **kw)
        d = base.OUT_ROOT / name
        (d / "heads.json").write_text(json.dumps(
            {"sequences": seqs, "tokens": tokens, "prompt": prompt, "prompt_tokens": prompt_tokens,
             "versions": base.VERSIONS}, indent=2) + "\n")
        save_golden(d / "heads.safetensors", {k: out[k] for k in sorted(out)},
                    {"model": name, **base.VERSIONS, "generator": "tests/reference/make_head_goldens.py"})
        print(f"{name}: {len(out)} tensors, tokens {tokens[0]}", flush=True)


if __name__ == "__main__":
    main()
