#!/usr/bin/env python3
"""Builds small tokenizers of each family mechscope supports with the Hugging Face `tokenizers`
library, and records what that library produces for a set of test strings. The C++ tests
(tests/core/test_tokenizer_hf_goldens.cpp) load the same tokenizer.json files and must agree.

Nothing is downloaded: every tokenizer is trained here on the small built-in corpus below.

Run from the repository root with a fresh virtual environment:

    python3 -m venv /tmp/tokvenv
    /tmp/tokvenv/bin/pip install tokenizers
    /tmp/tokvenv/bin/python tests/reference/make_tokenizer_goldens.py

Writes tests/golden/tokenizers/<name>/{tokenizer.json, tokenizer_config.json, cases.json}.
cases.json holds, for every test string: ids with and without special tokens, offsets as UTF-8
byte ranges [begin, end) of the input (HF reports character offsets; they are converted here),
the token strings, and decode() with and without skip_special_tokens.
"""
import json
import pathlib

import tokenizers
from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

OUT = pathlib.Path(__file__).resolve().parents[1] / "golden" / "tokenizers"

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = """\
Once upon a time, in a small village at the edge of a great forest, there lived a girl named Lily.
She loved to play outside in the park with her friends, and every morning she would run to the
river to watch the boats go by. Her brother Tom was older and liked to read books about the stars.
"Why is the sky blue?" Lily asked one day. Tom smiled and said, "Because the air scatters the blue
light from the sun more than the red light." Lily didn't understand, but she liked the answer.
They're going to the market tomorrow; we'll see what they've bought. I'm sure it'll be fun.
The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!
Numbers matter too: 1, 2, 3, 10, 42, 100, 2024, 3.14159, 1234567 and 99 bottles of milk.
In 1969 the first people walked on the Moon; by 2000 more than 6 billion people lived on Earth.
Interpretability research asks how a transformer computes its answer: which heads attend where,
which neurons fire, and how the residual stream carries information from layer to layer.
A tokenizer splits text into tokens; the model never sees characters, only token ids.
def main():
    for i in range(10):
        print(i * 2)  # doubles
    return {"key": [1, 2, 3], 'other': None}
The café served crème brûlée and a naïve résumé was pinned to the wall of the hôtel.
Über den Wolken muss die Freiheit wohl grenzenlos sein. Straße, Größe, schön, Mädchen.
Привет, как дела? Всё хорошо, спасибо. Москва — столица России.
Καλημέρα κόσμε, η γλώσσα είναι όμορφη.
我想在苹果工作。今天天气很好，我们去公园散步吧。東京は日本の首都です。
¿Dónde está la biblioteca? ¡Qué bonito día! Ça va très bien, merci.
Tabs\tand\tnewlines\nare whitespace too;   multiple   spaces   happen.
"""

CASES = [
    "",
    "Hello world",
    " Hello world",
    "Hello, world! How are you?",
    "Once upon a time, there was a little girl named Lily.",
    "the quick brown fox",
    "  leading spaces",
    "trailing spaces   ",
    "multiple   spaces\tand\ttabs",
    "line one\nline two\n\nline four\r\n",
    "\n",
    " ",
    "\t",
    "1234567",
    "3.14159 and 42 and 2024",
    "I'm sure they'll say it's what we've done, they're right, I'd say.",
    "DON'T SHOUT, it's FINE",
    "café crème brûlée naïve résumé",
    "cafe\u0301 nai\u0308ve",
    "Ångström Ω ﬁ ①",
    "Привет мир",
    "Καλημέρα",
    "我想在apple工作1314151天～",
    "東京は日本の首都です",
    "កាន់តែពិសេសអាច",
    "emoji 🚀 and 😁 and 🦙🦙",
    "family 👨‍👩‍👧‍👦 and 😶‍🌫️ zwj",
    "flags 🇫🇷🇯🇵",
    "math ∑ ∫ √ ≠ ≤",
    "def main():\n    return {'a': [1, 2]}",
    "tokenization",
    " tokenization",
    "<s>",
    "<s>Hello",
    "Hello </s> world",
    "<|im_start|>user\nHi<|im_end|>",
    "<|endoftext|>",
    "<|begin_of_text|>Hi",
    "text with <mask> inside",
    "a <mask>  b",
    "naïve approach",
    "xyz zzz qqq",
    "mechscope is fun",
    "themechscope mechscope",
]


def with_offsets_in_bytes(text, offsets):
    """HF (Python) offsets are character indices; the C++ API uses UTF-8 byte indices."""
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + len(ch.encode("utf-8")))
    return [[prefix[b], prefix[e]] for b, e in offsets]


def train_bpe(tok, vocab_size, special_tokens, **kwargs):
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special_tokens,
                                  show_progress=False, **kwargs)
    tok.train_from_iterator(CORPUS.splitlines(keepends=True) * 3, trainer)


def reload(tok, edit):
    """Round-trips through JSON so fields the trainer does not set can be edited in."""
    data = json.loads(tok.to_str())
    edit(data)
    return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))


def inject_vocab(data, tokens):
    vocab = data["model"]["vocab"]
    next_id = max(max(vocab.values()), max((t["id"] for t in data["added_tokens"]), default=0)) + 1
    for t in tokens:
        if t not in vocab:
            vocab[t] = next_id
            next_id += 1


def byte_level_bpe(regex, special_tokens, normalizer=None, template_bos=None):
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    train_bpe(tok, 700, special_tokens, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    steps = [processors.ByteLevel(trim_offsets=False)]
    if template_bos:
        steps.append(processors.TemplateProcessing(
            single=f"{template_bos} $A", special_tokens=[(template_bos, tok.token_to_id(template_bos))]))
    tok.post_processor = processors.Sequence(steps)
    return tok


def make_llama3():
    tok = byte_level_bpe(LLAMA3_REGEX, ["<|begin_of_text|>", "<|end_of_text|>"],
                         template_bos="<|begin_of_text|>")

    def edit(data):
        data["model"]["ignore_merges"] = True
        # Whole words that merges alone would not reach: ignore_merges must emit them as one token.
        inject_vocab(data, ["tokenization", "\u0120tokenization"])
    tok = reload(tok, edit)
    config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"}
    return tok, config


def make_qwen2():
    tok = byte_level_bpe(QWEN2_REGEX, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                         normalizer=normalizers.NFC())
    # A non-special added token that is matched in the normalized (NFC) text.
    tok.add_tokens([AddedToken("naïve", normalized=True, special=False)])

    def edit(data):
        # Older files (and GPT-2's) spell merges as "left right" strings: cover that format too.
        data["model"]["merges"] = [" ".join(m) for m in data["model"]["merges"]]
    tok = reload(tok, edit)
    config = {"bos_token": None, "eos_token": "<|endoftext|>", "add_bos_token": False}
    return tok, config


BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]


def sentencepiece_bpe(normalizer, pre_tokenizer, decoder, byte_fallback):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=byte_fallback, fuse_unk=True))
    # Train on Metaspace-split words (so pieces start with "▁"), like SentencePiece.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    specials = ["<unk>", "<s>", "</s>"] + (BYTE_TOKENS if byte_fallback else [])
    # No limit_alphabet: its tie-breaking is not deterministic. Characters absent from the corpus
    # (emoji, Khmer, Thai, math symbols...) still exercise byte fallback / <unk>.
    train_bpe(tok, 900, specials)
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoder
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])

    def edit(data):
        # Byte tokens belong to the model vocabulary, not to the added tokens (as in Llama 2).
        data["added_tokens"] = [t for t in data["added_tokens"] if t["content"] not in BYTE_TOKENS]
        data["model"]["byte_fallback"] = byte_fallback
        data["model"]["fuse_unk"] = True
    tok = reload(tok, edit)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False)])
    return tok


def make_llama2():
    tok = sentencepiece_bpe(
        normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]), None,
        decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                           decoders.Strip(content=" ", left=1, right=0)]),
        byte_fallback=True)
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": {"content": "<s>"},
              "eos_token": "</s>", "unk_token": "<unk>"}
    return tok, config


def make_metaspace():
    tok = sentencepiece_bpe(
        None, pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
        decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first"),
                           decoders.ByteFallback(), decoders.Fuse()]),
        byte_fallback=True)
    config = {"bos_token": "<s>", "eos_token": "</s>"}
    return tok, config


def make_metaspace_unk():
    # No byte fallback: unknown characters become <unk>, consecutive ones fused into one.
    tok = sentencepiece_bpe(
        None, pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        decoders.Metaspace(replacement="▁", prepend_scheme="always"),
        byte_fallback=False)
    return tok, None


def word_level(pre_tokenizer, normalizer):
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    trainer = trainers.WordLevelTrainer(vocab_size=400, special_tokens=["[UNK]", "[PAD]"],
                                        show_progress=False)
    tok.train_from_iterator(CORPUS.splitlines(keepends=True), trainer)
    return tok


def make_wordlevel():
    tok = word_level(pre_tokenizers.WhitespaceSplit(), normalizers.Lowercase())
    return tok, None


def make_wordlevel_whitespace():
    tok = word_level(pre_tokenizers.Whitespace(), None)
    # A non-special added token that only matches as a whole word.
    tok.add_tokens([AddedToken("mechscope", single_word=True, normalized=False)])
    return tok, None


FAMILIES = {
    "llama3_bpe": make_llama3,
    "qwen2_bpe": make_qwen2,
    "llama2_sentencepiece": make_llama2,
    "metaspace_bpe": make_metaspace,
    "metaspace_unk": make_metaspace_unk,
    "wordlevel": make_wordlevel,
    "wordlevel_whitespace": make_wordlevel_whitespace,
}


def main():
    for name, make in FAMILIES.items():
        tok, config = make()
        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        tok.save(str(folder / "tokenizer.json"), pretty=False)
        if config is not None:
            (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=1) + "\n")
        cases = []
        for text in CASES:
            with_special = tok.encode(text, add_special_tokens=True)
            without = tok.encode(text, add_special_tokens=False)
            cases.append({
                "text": text,
                "ids": with_special.ids,
                "offsets": with_offsets_in_bytes(text, with_special.offsets),
                "tokens": with_special.tokens,
                "ids_no_special": without.ids,
                "decoded": tok.decode(with_special.ids, skip_special_tokens=False),
                "decoded_skip_special": tok.decode(with_special.ids, skip_special_tokens=True),
            })
        golden = {"generator": "tests/reference/make_tokenizer_goldens.py",
                  "tokenizers_version": tokenizers.__version__, "cases": cases}
        (folder / "cases.json").write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
        size = (folder / "tokenizer.json").stat().st_size
        print(f"{name}: vocab {tok.get_vocab_size()}, tokenizer.json {size} bytes, {len(cases)} cases")


if __name__ == "__main__":
    main()
