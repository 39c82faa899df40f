#!/usr/bin/env python3
"""Goldens for the C++ GGUF reader and dequantization (core/gguf/, tests/core/test_gguf_*.cpp).

Reference: pip `gguf` (llama.cpp's own Python package): `gguf.quants.dequantize` (which follows
ggml's dequantize_row_*) and `gguf.GGUFWriter` (GGUF v3). Writes, under tests/golden/gguf/:

  dequant/<TYPE>.raw, <TYPE>.f32   a few blocks of each type (deterministic seed) and their f32
                                   dequantization. Scales and mins (the f16 `d`/`dmin`/`m` fields)
                                   are realistic finite halves, with extremes (±65504, the smallest
                                   subnormal and normal, ±0) among them; payload bytes are random,
                                   all 0x00 or all 0xFF. I8/I16/I32/I64/F64 (which gguf.quants does
                                   not convert) use numpy's astype(float32).
  <name>.gguf, <name>.json, <name>.f32
                                   files written by GGUFWriter: metadata of every value type
                                   (arrays, nested arrays, a non-UTF-8 string) and tensors of many
                                   types; the JSON lists the metadata as written and each tensor's
                                   type, dims, data offset and size (from gguf.GGUFReader), and
                                   where its f32 values start in the .f32 file.

and the fuzz seeds tests/fuzz/seeds/tiny_v3.gguf (GGUFWriter) and tiny_v1.gguf (GGUF v1: 32-bit
lengths and counts, written here by hand since GGUFWriter writes v3 only).

Run from the repository root (pip install gguf into .venv first):

    .venv/bin/python tests/reference/make_gguf_goldens.py
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType as V, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "gguf"
SEEDS = ROOT / "tests" / "fuzz" / "seeds"
RNG = np.random.default_rng(20240607)

# Byte offsets of the f16 scale/min fields inside one block of each quantized type.
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
FLOAT_TYPES = [T.F32, T.F16, T.BF16]
INT_TYPES = {T.I8: np.int8, T.I16: np.int16, T.I32: np.int32, T.I64: np.int64, T.F64: np.float64}
# Extreme but finite f16 scales, used first, then random realistic ones.
EXTREME_HALVES = [65504.0, -65504.0, 2.0 ** -24, 2.0 ** -14, 0.0, -0.0, 1.0, -2.0 ** -24]


def realistic_half(i: int) -> np.float16:
    """The i-th scale: an extreme one for small i, else ±10^U(-4, 0)."""
    if i < len(EXTREME_HALVES):
        return np.float16(EXTREME_HALVES[i])
    return np.float16(RNG.choice([-1.0, 1.0]) * 10.0 ** RNG.uniform(-4, 0))


def quant_blocks(qtype: T, n_blocks: int, extreme_payloads: bool = False) -> np.ndarray:
    """n_blocks raw blocks (uint8 [n_blocks, type_size]) with finite f16 fields; with
    extreme_payloads the first two blocks' other bytes are all 0x00 and all 0xFF."""
    _, type_size = GGML_QUANT_SIZES[qtype]
    blocks = RNG.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    if extreme_payloads:
        blocks[:2] = [[0x00], [0xFF]]  # the scales are set below
    k = 0
    for b in range(n_blocks):
        for off in HALF_FIELDS[qtype]:
            blocks[b, off:off + 2] = np.array([realistic_half(k)], dtype=np.float16).view(np.uint8)
            k += 1
    return blocks


def float_values(qtype: T, n: int) -> np.ndarray:
    """n raw F32/F16/BF16 values (as uint8) with specials (±0, ±inf, extremes) but no NaN."""
    if qtype == T.F32:
        v = RNG.standard_normal(n).astype(np.float32)
        specials = [0.0, -0.0, np.inf, -np.inf, 3.4028235e38, -3.4028235e38, 1e-45, -1.17549435e-38]
        v[:min(n, 8)] = specials[:n]
        return v.view(np.uint8)
    bits = RNG.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    exp_mask, man_mask = (0x7C00, 0x03FF) if qtype == T.F16 else (0x7F80, 0x007F)
    nan = ((bits & exp_mask) == exp_mask) & ((bits & man_mask) != 0)
    bits[nan] &= ~np.uint16(exp_mask)  # NaN → a finite value with the same sign and mantissa
    bits[:min(n, 4)] = [0x0000, 0x8000, exp_mask, 0x8000 | exp_mask][:n]  # ±0, ±inf
    return bits.view(np.uint8)


def int_values(qtype: T, n: int) -> np.ndarray:
    """n raw I8..I64 or F64 values (as uint8), extremes first."""
    dtype = INT_TYPES[qtype]
    if dtype == np.float64:
        v = RNG.standard_normal(n) * 10.0 ** RNG.uniform(-3, 3, size=n)
        v[:min(n, 4)] = [1e300, -1e300, 1e-300, 16777217.0][:n]  # to ±inf, underflow, rounding
    else:
        info = np.iinfo(dtype)
        v = RNG.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
        v[:min(n, 2)] = [info.min, info.max][:n]
    return np.ascontiguousarray(v.astype(dtype)).view(np.uint8)


def raw_tensor(qtype: T, n_elements: int, extreme_payloads: bool = False) -> np.ndarray:
    """Raw bytes (uint8, flat) of a tensor of n_elements of qtype."""
    block_size, _ = GGML_QUANT_SIZES[qtype]
    if qtype in HALF_FIELDS:
        return quant_blocks(qtype, n_elements // block_size, extreme_payloads).reshape(-1)
    if qtype in INT_TYPES:
        return int_values(qtype, n_elements)
    return float_values(qtype, n_elements)


def reference_f32(qtype: T, raw: np.ndarray) -> np.ndarray:
    """The f32 values of raw bytes: gguf.quants.dequantize, or numpy for the integer/F64 types."""
    if qtype in INT_TYPES:
        with np.errstate(over="ignore"):
            return raw.view(INT_TYPES[qtype]).astype(np.float32)
    return np.asarray(dequantize(raw, qtype), dtype=np.float32).reshape(-1)


def write_dequant_goldens() -> None:
    out = OUT / "dequant"
    out.mkdir(parents=True, exist_ok=True)
    for qtype in [*FLOAT_TYPES, *HALF_FIELDS, *INT_TYPES]:
        block_size, _ = GGML_QUANT_SIZES[qtype]
        n = block_size * (6 if block_size == 256 else 8) if block_size > 1 else 64
        raw = raw_tensor(qtype, n, extreme_payloads=True)
        f32 = reference_f32(qtype, raw)
        assert f32.size == n and not np.isnan(f32).any(), qtype.name
        (out / f"{qtype.name}.raw").write_bytes(raw.tobytes())
        (out / f"{qtype.name}.f32").write_bytes(f32.astype("<f4").tobytes())


# ---------------------------------------------------------------------------------------------
# GGUF files from GGUFWriter

def scalar_json(vtype: V, value):
    """A written scalar as the JSON the C++ test compares with (f32 values rounded to f32)."""
    if vtype == V.STRING:
        if isinstance(value, bytes):
            return {"type": "string", "hex": value.hex()}
        return {"type": "string", "value": value}
    if vtype == V.FLOAT32:
        return {"type": "float32", "value": float(np.float32(value))}
    return {"type": vtype.name.lower(), "value": value}


def array_json(element: V, items) -> dict:
    out = {"type": "array", "element_type": element.name.lower(), "items": []}
    for item in items:
        if element == V.ARRAY:
            out["items"].append(array_json(V.get_type(item[0]), item))
        else:
            out["items"].append(scalar_json(element, item))
    return out


def add_metadata(w: GGUFWriter, meta: list) -> list:
    """Adds (key, type, value[, element type]) entries; returns their JSON."""
    out = [{"key": "general.architecture", **scalar_json(V.STRING, w.arch)}]
    for key, vtype, value, *sub in meta:
        w.add_key_value(key, value, vtype, sub_type=sub[0] if sub else None)
        if vtype == V.ARRAY:
            element = sub[0] if sub else V.get_type(value[0])
            out.append({"key": key, **array_json(element, value)})
        else:
            out.append({"key": key, **scalar_json(vtype, value)})
    return out


EVERY_VALUE_TYPE = [
    ("test.u8", V.UINT8, 200), ("test.i8", V.INT8, -100),
    ("test.u16", V.UINT16, 60000), ("test.i16", V.INT16, -30000),
    ("test.u32", V.UINT32, 4000000000), ("test.i32", V.INT32, -2000000000),
    ("test.f32", V.FLOAT32, 3.14159), ("test.f32_max", V.FLOAT32, 3.4028234663852886e38),
    ("test.f32_tiny", V.FLOAT32, 1e-45),
    ("test.bool_true", V.BOOL, True), ("test.bool_false", V.BOOL, False),
    ("test.string", V.STRING, "h\u00e9llo w\u00f6rld \U0001f600"), ("test.empty_string", V.STRING, ""),
    ("test.bytes_string", V.STRING, b"\xff\xfe not utf-8 \x00 nul"),
    ("test.u64", V.UINT64, 2 ** 64 - 1), ("test.u64_small", V.UINT64, 12345678901234),
    ("test.i64", V.INT64, -(2 ** 63)), ("test.f64", V.FLOAT64, 2.718281828459045),
    ("test.arr_u8", V.ARRAY, [0, 1, 255], V.UINT8), ("test.arr_i8", V.ARRAY, [-128, 0, 127], V.INT8),
    ("test.arr_u16", V.ARRAY, [0, 65535], V.UINT16), ("test.arr_i16", V.ARRAY, [-32768, 32767], V.INT16),
    ("test.arr_u32", V.ARRAY, [0, 4294967295], V.UINT32),
    ("test.arr_i32", V.ARRAY, [-2147483648, 2147483647, 7], V.INT32),
    ("test.arr_f32", V.ARRAY, [0.5, -1.25, 1e-3], V.FLOAT32),
    ("test.arr_bool", V.ARRAY, [True, False, True], V.BOOL),
    ("test.arr_string", V.ARRAY, ["a", "", "\u00fc\u00f1\u00ee", "merges x"], V.STRING),
    ("test.arr_u64", V.ARRAY, [0, 2 ** 64 - 1], V.UINT64),
    ("test.arr_i64", V.ARRAY, [-(2 ** 63), 2 ** 63 - 1], V.INT64),
    ("test.arr_f64", V.ARRAY, [1e300, -1e-300, 0.1], V.FLOAT64),
    ("test.nested_i32", V.ARRAY, [[1, 2], [3, 4, 5]]),
    ("test.nested_strings", V.ARRAY, [["x"], ["y", "z"]]),
    ("test.nested3", V.ARRAY, [[[1]], [[2, 3], [4]]]),
]


def write_gguf(name: str, meta: list, tensors: list, alignment: int | None = None,
               out_dir: Path = OUT) -> Path:
    """A GGUF v3 file with `meta` and `tensors` [(name, type, torch-order shape)], its JSON
    description and the f32 values of its tensors."""
    path = out_dir / f"{name}.gguf"
    w = GGUFWriter(path, "mechscope-test")
    if alignment is not None:  # what add_custom_alignment does, with the key listed in the JSON
        w.data_alignment = alignment
        meta = [("general.alignment", V.UINT32, alignment)] + meta
    meta_json = add_metadata(w, meta)
    values, expected = [], {}
    for tname, qtype, shape in tensors:
        n = int(np.prod(shape))
        raw = raw_tensor(qtype, n)
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        if qtype in INT_TYPES:
            w.add_tensor(tname, raw.view(INT_TYPES[qtype]).reshape(shape))
        else:
            byte_shape = (*shape[:-1], shape[-1] // block_size * type_size)
            w.add_tensor(tname, raw.reshape(byte_shape), raw_dtype=qtype)
        expected[tname] = sum(v.size for v in values)
        values.append(reference_f32(qtype, raw))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    reader = GGUFReader(path)
    tensor_json = []
    for t in reader.tensors:
        tensor_json.append({
            "name": t.name, "type": t.tensor_type.name, "type_id": int(t.tensor_type),
            "dims": [int(d) for d in t.shape], "offset": int(t.data_offset - reader.data_offset),
            "bytes": int(t.n_bytes), "f32_start": expected[t.name],
        })
    doc = {"version": 3, "alignment": alignment or 32, "data_offset": int(reader.data_offset),
           "metadata": meta_json, "tensors": tensor_json}
    if out_dir == OUT:
        (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        (out_dir / f"{name}.f32").write_bytes(np.concatenate(values).astype("<f4").tobytes())
    return path


EVERY_TENSOR_TYPE = [
    ("f32", T.F32, (3, 4)), ("f16", T.F16, (2, 8)), ("bf16", T.BF16, (2, 8)),
    ("q4_0", T.Q4_0, (2, 32)), ("q4_1", T.Q4_1, (1, 64)), ("q5_0", T.Q5_0, (2, 32)),
    ("q5_1", T.Q5_1, (1, 32)), ("q8_0", T.Q8_0, (2, 64)),
    ("blk.0.q2_k", T.Q2_K, (1, 256)), ("blk.0.q3_k", T.Q3_K, (1, 256)),
    ("blk.0.q4_k", T.Q4_K, (1, 256)), ("blk.0.q5_k", T.Q5_K, (1, 256)),
    ("blk.0.q6_k", T.Q6_K, (1, 256)),
]
SHAPES_AND_INTS = [
    ("one_d", T.F32, (5,)), ("three_d", T.Q8_0, (2, 3, 32)), ("four_d", T.F16, (2, 1, 3, 2)),
    ("i8", T.I8, (7,)), ("i16", T.I16, (3, 2)), ("i32", T.I32, (4,)), ("i64", T.I64, (3,)),
    ("f64", T.F64, (2, 2)),
]


# ---------------------------------------------------------------------------------------------
# A GGUF v1 seed, by hand

def v1_string(s: bytes) -> bytes:
    return struct.pack("<I", len(s)) + s


def write_v1_seed(path: Path) -> None:
    """GGUF v1: 32-bit counts, lengths and dims; two tensors (F32 [4, 2] and Q8_0 [32])."""
    kv = [
        v1_string(b"general.architecture") + struct.pack("<I", V.STRING) + v1_string(b"llama"),
        v1_string(b"llama.context_length") + struct.pack("<II", V.UINT32, 128),
        v1_string(b"tokenizer.ggml.tokens") + struct.pack("<III", V.ARRAY, V.STRING, 3)
        + v1_string(b"<unk>") + v1_string(b"a") + v1_string(b"b"),
        v1_string(b"tokenizer.ggml.scores") + struct.pack("<III", V.ARRAY, V.FLOAT32, 3)
        + struct.pack("<3f", 0.0, -1.0, -2.0),
    ]
    f32 = np.arange(8, dtype="<f4").tobytes()
    q8 = quant_blocks(T.Q8_0, 1).tobytes()
    infos = [
        v1_string(b"token_embd.weight") + struct.pack("<III", 2, 2, 4) + struct.pack("<IQ", T.F32, 0),
        v1_string(b"output.weight") + struct.pack("<II", 1, 32) + struct.pack("<IQ", T.Q8_0, 32),
    ]
    head = b"GGUF" + struct.pack("<III", 1, len(infos), len(kv)) + b"".join(kv) + b"".join(infos)
    head += b"\0" * (-len(head) % 32)
    path.write_bytes(head + f32 + b"\0" * (32 - len(f32)) + q8)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_dequant_goldens()
    write_gguf("writer_v3", EVERY_VALUE_TYPE, EVERY_TENSOR_TYPE)
    write_gguf("writer_align64", [("test.note", V.STRING, "alignment 64")], SHAPES_AND_INTS,
               alignment=64)
    seed_meta = [("llama.context_length", V.UINT32, 64),
                 ("tokenizer.ggml.tokens", V.ARRAY, ["<unk>", "a", "b"], V.STRING),
                 ("test.nested", V.ARRAY, [[1, 2], [3]])]
    write_gguf("tiny_v3", seed_meta,
               [("a", T.Q4_K, (1, 256)), ("b", T.Q8_0, (2, 32)), ("c", T.F16, (4, 4)),
                ("d", T.Q6_K, (1, 256))], out_dir=SEEDS)
    write_v1_seed(SEEDS / "tiny_v1.gguf")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total} bytes) and the seeds in {SEEDS}")


if __name__ == "__main__":
    main()
