#!/usr/bin/env python3
"""Hugging Face `generate` timing for tests/bench/bench_generate (not a golden maker).

Times greedy generation of exactly --new tokens (no early stop at EOS: min_new_tokens = max_new_tokens)
after the prompt --tokens with HF transformers on this CPU, the way bench_generate times mechscope on the
same folder, and prints one JSON object on the last line of stdout:

  hf_generate_s     median wall time of model.generate (seconds; KV cache on, as HF does by default) with
                    torch's default intra-op threads
  hf_generate_1t_s  the same with one intra-op thread (less hurt when other processes share the cores)
  hf_tokens         the generated token ids of the last repetition (bench_generate compares them with its own)
  threads           torch's default intra-op thread count

With --gguf FILE and no HF folder at --dir yet, first converts the GGUF file into an HF folder at --dir
(transformers dequantizes GGUF to float32: AutoModelForCausalLM.from_pretrained(folder, gguf_file=...), then
save_pretrained with its tokenizer). Usage (from the repository root):

    .venv/bin/python tests/reference/bench_hf_generate.py --dir .models/smollm2-hf \
        [--gguf .models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf] --tokens 1,2,3 --new 128 [--reps 1]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402


def convert(gguf: str, out_dir: str) -> None:
    folder, name = os.path.split(os.path.abspath(gguf))
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
    # The loaded model remembers its GGUF origin and refuses save_pretrained: copy its (dequantized)
    # weights into a plain model of the same config.
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    model.load_state_dict(quantized.state_dict())
    model.save_pretrained(out_dir, safe_serialization=True)
    AutoTokenizer.from_pretrained(folder, gguf_file=name).save_pretrained(out_dir)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True, help="HF model folder")
    p.add_argument("--gguf", help="GGUF file to convert into --dir when --dir has no config.json")
    p.add_argument("--tokens", required=True, help="prompt token ids, comma-separated")
    p.add_argument("--new", type=int, default=128)
    p.add_argument("--reps", type=int, default=1)
    args = p.parse_args()

    if not os.path.exists(os.path.join(args.dir, "config.json")):
        if not args.gguf:
            raise SystemExit(f"{args.dir} holds no HF model; give --gguf to convert one.")
        convert(args.gguf, args.dir)

    model = AutoModelForCausalLM.from_pretrained(args.dir, torch_dtype=torch.float32).eval()
    ids = torch.tensor([[int(t) for t in args.tokens.split(",")]])
    kwargs = dict(max_new_tokens=args.new, min_new_tokens=args.new, do_sample=False,
                  attention_mask=torch.ones_like(ids), pad_token_id=0)
    default_threads = torch.get_num_threads()

    def timed(threads: int):
        torch.set_num_threads(threads)
        times, out = [], None
        with torch.inference_mode():
            model.generate(ids, **{**kwargs, "max_new_tokens": 4, "min_new_tokens": 4})  # warm-up
            for _ in range(args.reps):
                t0 = time.perf_counter()
                out = model.generate(ids, **kwargs)
                times.append(time.perf_counter() - t0)
        return statistics.median(times), out[0, ids.shape[1]:].tolist()

    seconds, tokens = timed(default_threads)
    seconds_1t, _ = timed(1)
    print(json.dumps({"hf_generate_s": seconds, "hf_generate_1t_s": seconds_1t, "hf_tokens": tokens,
                      "threads": default_threads}))


if __name__ == "__main__":
    main()
