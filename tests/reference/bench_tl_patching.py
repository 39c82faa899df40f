#!/usr/bin/env python3
"""TransformerLens and Hugging Face timings for tests/bench/bench_probes (not a golden maker).

Loads the GPT-2-small-shaped checkpoint bench_probes writes (an HF GPT-2 folder: config.json + model.safetensors,
random weights) into HF transformers and TransformerLens 4.x's TransformerBridge (compatibility mode without weight
processing, as tests/reference/make_probe_goldens.py), then times on this CPU:

  tl_resid_pre_s      transformer_lens.patching.get_act_patch_resid_pre on the given prompt pair (one patched forward
                      per layer × position; logit difference at the last position), excluding the clean run_with_cache
  tl_forward_s        one TL bridge forward of the corrupted prompt (what each of those cells costs)
  hf_forward_128_s    HF GPT2LMHeadModel forward of 1 × 128 tokens (median), with torch's default threads and with 1

Prints one JSON object on the last line of stdout. Usage (from the repository root):

    .venv/bin/python tests/reference/bench_tl_patching.py --dir /tmp/mechscope_bench_gpt2_small \
        --clean 1,2,3 --corrupt 1,5,3 --answer 7 --wrong 9 [--reps 1]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
import logging

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, models as tk_models, pre_tokenizers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()
warnings.filterwarnings("ignore")
logging.getLogger().setLevel(logging.ERROR)


def ids(text: str) -> list[int]:
    return [int(t) for t in text.split(",") if t]


def dummy_tokenizer(vocab: int):
    """The bridge wants a tokenizer; the benchmark has none (inputs are ids)."""
    tk = Tokenizer(tk_models.WordLevel({f"t{i}": i for i in range(vocab)}, unk_token="t0"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="t0", pad_token="t0", bos_token="t1",
                                   eos_token="t2")
    td = tempfile.mkdtemp(prefix="bench_tok_")
    fast.save_pretrained(td)
    return AutoTokenizer.from_pretrained(td)


def load_hf(folder: str):
    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()


def median_time(fn, reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--clean", required=True, type=ids)
    ap.add_argument("--corrupt", required=True, type=ids)
    ap.add_argument("--answer", required=True, type=int)
    ap.add_argument("--wrong", required=True, type=int)
    ap.add_argument("--reps", type=int, default=1, help="repetitions of the TL sweep (median)")
    ap.add_argument("--skip-tl", action="store_true", help="only the HF forward")
    a = ap.parse_args()

    default_threads = torch.get_num_threads()
    out = {"torch": torch.__version__, "transformers": transformers.__version__, "threads": default_threads}
    torch.manual_seed(0)

    with torch.inference_mode():
        hf = load_hf(a.dir)
        x = torch.randint(0, hf.config.vocab_size, (1, 128))
        for threads in sorted({default_threads, 1}, reverse=True):
            torch.set_num_threads(threads)
            out[f"hf_forward_128_s_threads{threads}"] = median_time(lambda: hf(x).logits, 9)
        torch.set_num_threads(default_threads)
        out["hf_forward_128_s"] = out[f"hf_forward_128_s_threads{default_threads}"]

    if not a.skip_tl:
        import importlib.metadata
        from transformer_lens import patching as tlp
        from transformer_lens.model_bridge import TransformerBridge

        out["transformer_lens"] = importlib.metadata.version("transformer-lens")
        hf2 = load_hf(a.dir)
        b = TransformerBridge.boot_transformers(a.dir, hf_model=hf2, tokenizer=dummy_tokenizer(hf2.config.vocab_size))
        b.enable_compatibility_mode(disable_warnings=True, no_processing=True)
        b.eval()
        clean = torch.tensor([a.clean])
        corrupt = torch.tensor([a.corrupt])

        def logit_diff(logits):
            last = logits[0, -1]
            return last[a.answer] - last[a.wrong]

        with torch.no_grad():
            clean_logits, clean_cache = b.run_with_cache(clean)
            out["tl_clean_logit_diff"] = float(logit_diff(clean_logits))
            out["tl_forward_s"] = median_time(lambda: b(corrupt), 5)
            times = []
            for _ in range(a.reps):
                t0 = time.perf_counter()
                res = tlp.get_act_patch_resid_pre(b, corrupt, clean_cache, logit_diff)
                times.append(time.perf_counter() - t0)
            out["tl_resid_pre_s"] = statistics.median(times)
            out["tl_cells"] = int(res.numel())
            out["tl_effect_shape"] = list(res.shape)
            # A few values so bench_probes can check that both sides computed the same thing.
            out["tl_effect_first_layer"] = [float(v) for v in res[0]]
            out["tl_effect_last_layer"] = [float(v) for v in res[-1]]

    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
