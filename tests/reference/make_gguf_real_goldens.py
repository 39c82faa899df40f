#!/usr/bin/env python3
"""Goldens for the real GGUF models that `scripts/mechscope.sh models` installs into .models/ (git-ignored).

For each model found, transformers loads the GGUF file itself (from_pretrained(gguf_file=...): pip gguf dequantizes
every tensor to f32 and transformers undoes llama.cpp's conversion), and this script writes
tests/golden/gguf_real/<name>.json with, per prompt:
  * the token ids of transformers' tokenizer built from the same file's metadata,
  * the top-5 next-token logits (ids and values) at every position, f32 on the CPU,
  * the greedy continuation (ids and text, 8 new tokens).
tests/core/test_models_gguf.cpp checks mechscope against these: same ids, logits within 1e-3, same greedy text.

    scripts/mechscope.sh models
    .venv/bin/python tests/reference/make_gguf_real_goldens.py      # ~1 minute on 2 cores

Made with transformers 5.24.0, torch 2.15.0, gguf (pip).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()
torch.set_num_threads(min(2, os.cpu_count() or 1))

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "golden" / "gguf_real"
MODELS = {
    "smollm2": REPO / ".models" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": REPO / ".models" / "gemma3" / "gemma-3-270m-q4_k_m.gguf",
}
PROMPTS = [
    "The capital of France is",
    "Alice and Bob went to the market. Bob gave an apple to",
    "Once upon a time, there was a",
]
TOP_K = 5
NEW_TOKENS = 8


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, path in MODELS.items():
        if not path.exists():
            print(f"{name}: {path} missing (run scripts/mechscope.sh models); skipped")
            continue
        kw = dict(gguf_file=path.name)
        tok = transformers.AutoTokenizer.from_pretrained(str(path.parent), **kw)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(path.parent), dtype=torch.float32, attn_implementation="eager", **kw).eval()
        entries = []
        for prompt in PROMPTS:
            ids = tok(prompt, return_tensors="pt").input_ids
            with torch.no_grad():
                logits = model(ids).logits[0]
                top = logits.topk(TOP_K, dim=-1)
                gen = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1,
                                     pad_token_id=tok.pad_token_id)[0, ids.shape[1]:]
            entries.append({
                "prompt": prompt,
                "input_ids": ids[0].tolist(),
                "top_ids": top.indices.tolist(),
                "top_logits": [[round(v, 6) for v in row] for row in top.values.tolist()],
                "greedy_ids": gen.tolist(),
                "greedy_text": tok.decode(gen),
            })
            print(f"{name}: {prompt!r} → {tok.decode(gen)!r}")
        doc = {
            "model": path.name,
            "what": "transformers' GGUF loader (f32, CPU, eager attention): token ids, top-5 logits per position, "
                    f"greedy continuation of {NEW_TOKENS} tokens",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "prompts": entries,
        }
        (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
