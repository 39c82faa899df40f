#!/usr/bin/env python3
"""Reference implementation of llama2.c's tokenizer encode() (run.c), used to make the goldens that
tests/core/test_tokenizer_llama2c.cpp checks mechscope's llama2.c tokenizer against.

It reads the shared fixture ../shared/fixtures/stories260K/tok512.bin (relative to the repository
root) and writes tests/golden/tokenizers/llama2c_tok512/cases.json. Standard library only:

    python3 tests/reference/make_llama2c_tokenizer_goldens.py
"""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKENIZER = ROOT.parent / "shared" / "fixtures" / "stories260K" / "tok512.bin"
OUT = ROOT / "tests" / "golden" / "tokenizers" / "llama2c_tok512" / "cases.json"

CASES = [
    b"",
    b"Once upon a time, there was a little girl named Lily.",
    b"Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
    b"Hello world",
    b" leading space",
    b"two  spaces and\ttab\nnewline",
    b"1234567 3.14",
    b"caf\xc3\xa9 na\xc3\xafve",                 # Accented characters (maybe not in the vocabulary).
    b"\xe6\x88\x91\xe6\x83\xb3",                 # CJK: byte fallback.
    b"emoji \xf0\x9f\x9a\x80!",                  # A 4-byte character: byte fallback.
    b"\xe2\x84\xa2 and \xe2\x80\x8a",            # Characters that are single tokens in tok512.
    b"bad \xff byte and lone \x80 continuation",  # Invalid UTF-8.
    b"<s> is not special here",
]


def load(path):
    data = path.read_bytes()
    (max_len,) = struct.unpack_from("<i", data, 0)
    pos, vocab, scores = 4, [], []
    while pos < len(data):
        score, length = struct.unpack_from("<fi", data, pos)
        pos += 8
        vocab.append(data[pos:pos + length])
        scores.append(score)
        pos += length
    return vocab, scores


def encode(vocab, scores, text, bos):
    """llama2.c encode(): a line-by-line port, including its O(n^2) merge loop."""
    lookup = {}
    for i, piece in enumerate(vocab):
        lookup.setdefault(piece, i)
    tokens = [1] if bos else []
    if text:
        tokens.append(lookup[b" "])
    buffer = bytearray()
    for i, c in enumerate(text):
        if (c & 0xC0) != 0x80:
            buffer = bytearray()
        buffer.append(c)
        nxt = text[i + 1] if i + 1 < len(text) else 0
        if (nxt & 0xC0) == 0x80 and len(buffer) < 4:
            continue
        tid = lookup.get(bytes(buffer))
        if tid is not None:
            tokens.append(tid)
        else:
            tokens.extend(b + 3 for b in buffer)
        buffer = bytearray()
    while True:
        best_score, best_id, best_idx = -1e10, -1, -1
        for i in range(len(tokens) - 1):
            tid = lookup.get(vocab[tokens[i]] + vocab[tokens[i + 1]])
            if tid is not None and scores[tid] > best_score:
                best_score, best_id, best_idx = scores[tid], tid, i
        if best_idx == -1:
            break
        tokens[best_idx] = best_id
        del tokens[best_idx + 1]
    return tokens


def main():
    vocab, scores = load(TOKENIZER)
    cases = [{"text_hex": text.hex(), "ids": encode(vocab, scores, text, bos=True),
              "ids_no_bos": encode(vocab, scores, text, bos=False)} for text in CASES]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    body = ",\n  ".join(json.dumps(case) for case in cases)  # One case per line.
    OUT.write_text('{"generator": "tests/reference/make_llama2c_tokenizer_goldens.py",\n'
                   ' "tokenizer": "stories260K/tok512.bin",\n'
                   f' "cases": [\n  {body}\n ]\n}}\n')
    print(f"wrote {OUT}: {len(cases)} cases, vocab {len(vocab)}")


if __name__ == "__main__":
    main()
