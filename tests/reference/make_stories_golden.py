#!/usr/bin/env python3
"""Golden file for the real stories260K model (llama2.c format) run through Hugging Face LlamaForCausalLM.

Reads ../shared/fixtures/stories260K/stories260K.bin (never copied into the repository; see
shared/fixtures/README.md), converts it in memory to an HF LlamaForCausalLM (fp32, eager attention) and writes

    tests/golden/stories260K/expected.safetensors
        input_ids  int64 [1, 40]   BOS (1) followed by the first 39 greedy tokens
        logits     f32   [1, 40, 512]  HF logits for input_ids
        generated  int64 [1, 60]   the 60 greedy (argmax) tokens generated after the prompt [1] (prompt excluded)

Setup and run (from the repository root; no network needed beyond PyPI for the install):

    python3 -m venv .venv
    .venv/bin/pip install torch transformers safetensors
    .venv/bin/python tests/reference/make_stories_golden.py [--fixtures PATH/TO/shared/fixtures]

Conversion notes:
  * llama2.c rotates adjacent pairs (2i, 2i+1); HF Llama rotates halves (i, i + head_dim/2). The rows of wq and
    wk are permuted per head exactly like llama2.c's export.py / HF's convert_llama_weights_to_hf.py `permute`:
        w.view(n_heads, head_dim // 2, 2, dim).transpose(1, 2).reshape(n_heads * head_dim, dim)
    (wk with n_kv_heads). wv, wo, the FFN and the norms are used as they are.
  * The script checks the HF logits against an independent llama2.c-style forward (adjacent-pair RoPE on the
    unpermuted weights), checks the greedy text against the fixture README and prints the decoded text.
"""
from __future__ import annotations

import argparse
import math
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_io import save_golden  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "golden" / "stories260K" / "expected.safetensors"
EXPECTED_PREFIX = "Once upon a time, there was a little girl named Lily."
BOS, EOS = 1, 2
PROMPT_LEN = 40      # input_ids length (BOS + 39 greedy tokens)
N_NEW = 60           # generated tokens

torch.set_num_threads(min(2, os.cpu_count() or 1))


def read_llama2c(path: Path):
    raw = path.read_bytes()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("<7i", raw, 0)
    shared = vocab > 0
    vocab = abs(vocab)
    data = np.frombuffer(raw, dtype="<f4", offset=7 * 4)
    head = dim // n_heads
    kv_dim = n_kv * head
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        t = torch.from_numpy(data[pos:pos + n].copy()).reshape(shape)
        pos += n
        return t

    w = {}
    w["tok"] = take(vocab, dim)
    w["rms_att"] = take(n_layers, dim)
    w["wq"] = take(n_layers, dim, dim)
    w["wk"] = take(n_layers, kv_dim, dim)
    w["wv"] = take(n_layers, kv_dim, dim)
    w["wo"] = take(n_layers, dim, dim)
    w["rms_ffn"] = take(n_layers, dim)
    w["w1"] = take(n_layers, hidden, dim)
    w["w2"] = take(n_layers, dim, hidden)
    w["w3"] = take(n_layers, hidden, dim)
    w["rms_final"] = take(dim)
    pos += 2 * seq_len * head // 2          # legacy freq_cis_real / freq_cis_imag tables
    w["wcls"] = w["tok"] if shared else take(vocab, dim)
    if pos != data.size:
        raise SystemExit(f"unexpected file size: {data.size - pos} floats left over")
    hp = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv, vocab=vocab,
              seq_len=seq_len, shared=shared)
    return hp, w


def read_tokenizer(path: Path, vocab: int):
    raw = path.read_bytes()
    (max_len,) = struct.unpack_from("<i", raw, 0)
    off = 4
    pieces = []
    for _ in range(vocab):
        _score, n = struct.unpack_from("<fi", raw, off)
        off += 8
        pieces.append(raw[off:off + n])
        off += n
    return pieces


def decode(pieces, ids) -> str:
    out = bytearray()
    prev = BOS
    for t in ids:
        p = pieces[t]
        if prev == BOS and p.startswith(b" "):
            p = p[1:]                                   # llama2.c: strip the dummy-prefix space after BOS
        if len(p) == 6 and p.startswith(b"<0x") and p.endswith(b">"):
            p = bytes([int(p[3:5], 16)])                # byte-fallback token
        out += p
        prev = t
    return out.decode("utf-8", errors="replace")


def permute(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Adjacent-pair RoPE row order -> HF rotate-half row order (per head)."""
    out_dim, in_dim = w.shape
    return w.view(n_heads, out_dim // n_heads // 2, 2, in_dim).transpose(1, 2).reshape(out_dim, in_dim)


def to_hf(hp, w) -> LlamaForCausalLM:
    cfg = LlamaConfig(
        vocab_size=hp["vocab"], hidden_size=hp["dim"], intermediate_size=hp["hidden"],
        num_hidden_layers=hp["n_layers"], num_attention_heads=hp["n_heads"], num_key_value_heads=hp["n_kv"],
        max_position_embeddings=hp["seq_len"], rms_norm_eps=1e-5, tie_word_embeddings=hp["shared"],
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, bos_token_id=BOS, eos_token_id=EOS,
        hidden_act="silu", attn_implementation="eager",
    )
    model = LlamaForCausalLM(cfg).eval()
    sd = {"model.embed_tokens.weight": w["tok"], "model.norm.weight": w["rms_final"],
          "lm_head.weight": w["wcls"]}
    for L in range(hp["n_layers"]):
        p = f"model.layers.{L}."
        sd[p + "input_layernorm.weight"] = w["rms_att"][L]
        sd[p + "post_attention_layernorm.weight"] = w["rms_ffn"][L]
        sd[p + "self_attn.q_proj.weight"] = permute(w["wq"][L], hp["n_heads"])
        sd[p + "self_attn.k_proj.weight"] = permute(w["wk"][L], hp["n_kv"])
        sd[p + "self_attn.v_proj.weight"] = w["wv"][L]
        sd[p + "self_attn.o_proj.weight"] = w["wo"][L]
        sd[p + "mlp.gate_proj.weight"] = w["w1"][L]
        sd[p + "mlp.down_proj.weight"] = w["w2"][L]
        sd[p + "mlp.up_proj.weight"] = w["w3"][L]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if unexpected or any(k != "lm_head.weight" for k in missing):
        raise SystemExit(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    if hp["shared"] and model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
        raise SystemExit("classifier is not tied to the embedding")
    return model


@torch.no_grad()
def llama2c_forward(hp, w, ids: torch.Tensor) -> torch.Tensor:
    """Independent reference: llama2.c's math (adjacent-pair RoPE, unpermuted weights), full sequence."""
    dim, H, KV = hp["dim"], hp["n_heads"], hp["n_kv"]
    D = dim // H
    T = ids.shape[0]

    def rms(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g

    freq = 1.0 / (10000.0 ** (torch.arange(0, D, 2, dtype=torch.float32) / D))      # [D/2]
    ang = torch.arange(T, dtype=torch.float32)[:, None] * freq[None]                  # [T, D/2]
    cos, sin = ang.cos()[:, None], ang.sin()[:, None]

    def rope(x):                                    # x [T, heads, D], rotate pairs (2i, 2i+1)
        a, b = x[..., 0::2], x[..., 1::2]
        return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)

    x = w["tok"][ids]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for L in range(hp["n_layers"]):
        h = rms(x, w["rms_att"][L])
        q = rope((h @ w["wq"][L].T).view(T, H, D))
        k = rope((h @ w["wk"][L].T).view(T, KV, D)).repeat_interleave(H // KV, dim=1)
        v = (h @ w["wv"][L].T).view(T, KV, D).repeat_interleave(H // KV, dim=1)
        att = (torch.einsum("thd,shd->hts", q, k) / math.sqrt(D) + mask).softmax(-1)
        z = torch.einsum("hts,shd->thd", att, v).reshape(T, dim)
        x = x + z @ w["wo"][L].T
        h = rms(x, w["rms_ffn"][L])
        x = x + (torch.nn.functional.silu(h @ w["w1"][L].T) * (h @ w["w3"][L].T)) @ w["w2"][L].T
    return rms(x, w["rms_final"]) @ w["wcls"].T


@torch.no_grad()
def greedy(model, n_new: int):
    ids = [BOS]
    margins = []
    for _ in range(n_new):
        logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1]
        top2 = logits.topk(2).values
        margins.append((top2[0] - top2[1]).item())
        ids.append(int(logits.argmax()))
    return ids, margins


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", type=Path, default=REPO.parent / "shared" / "fixtures")
    args = ap.parse_args()
    model_path = args.fixtures / "stories260K" / "stories260K.bin"
    tok_path = args.fixtures / "stories260K" / "tok512.bin"
    if not model_path.exists():
        print(f"fixture not found: {model_path}", file=sys.stderr)
        return 1

    hp, w = read_llama2c(model_path)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; stories260K header {hp}")
    model = to_hf(hp, w)
    pieces = read_tokenizer(tok_path, hp["vocab"])

    seq, margins = greedy(model, N_NEW)
    text = decode(pieces, seq[1:])
    print(f"greedy text: {text!r}")
    print(f"smallest top-1/top-2 logit margin over the {N_NEW} greedy steps: {min(margins):.4f}")
    if not text.startswith(EXPECTED_PREFIX):
        print(f"FAILED: greedy text does not begin with {EXPECTED_PREFIX!r}", file=sys.stderr)
        return 1

    input_ids = torch.tensor([seq[:PROMPT_LEN]], dtype=torch.int64)
    with torch.no_grad():
        logits = model(input_ids=input_ids, use_cache=False).logits.float()
        cached = model(input_ids=input_ids, use_cache=True).logits.float()
    ref = llama2c_forward(hp, w, input_ids[0])
    err = (ref - logits[0]).abs().max().item()
    print(f"max |HF - llama2.c-style reference| logits: {err:.2e}; HF cache vs no cache: "
          f"{(cached - logits).abs().max().item():.2e}")
    if not err < 1e-4:
        print("FAILED: HF conversion does not match the llama2.c reference", file=sys.stderr)
        return 1
    if not torch.equal(logits[0, :-1].argmax(-1), input_ids[0, 1:]):
        print("FAILED: logits are not consistent with the greedy input_ids", file=sys.stderr)
        return 1

    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_golden(
        OUT,
        {"input_ids": input_ids, "logits": logits, "generated": torch.tensor([seq[1:]], dtype=torch.int64)},
        {"model": "stories260K", "generator": "tests/reference/make_stories_golden.py",
         "transformers_version": transformers.__version__, "torch_version": torch.__version__,
         "generated": f"{N_NEW} greedy tokens after the prompt [1] (prompt excluded)", "text": text},
    )
    print(f"wrote {OUT.relative_to(REPO)} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
