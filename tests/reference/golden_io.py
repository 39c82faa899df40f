"""Shared helper for the golden-file scripts in this folder."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import torch
from safetensors.torch import save_file


def save_golden(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, object]) -> None:
    """safetensors.torch.save_file with f32 contiguous float tensors and a byte-reproducible header.

    save_file writes the metadata map in hash order (it differs from run to run); the metadata is re-written
    here in sorted key order, within the same header length, so regenerated goldens are byte-identical.
    """
    clean = {}
    for k, t in tensors.items():
        t = t.detach().cpu()
        if t.is_floating_point():
            t = t.to(torch.float32)
        clean[k] = t.contiguous()
    save_file(clean, str(path), metadata={k: str(v) for k, v in metadata.items()})

    raw = bytearray(Path(path).read_bytes())
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header["__metadata__"] = dict(sorted(header.get("__metadata__", {}).items()))
    new = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(new) > n:
        raise RuntimeError(f"{path}: canonical header longer than the original")
    raw[8:8 + n] = new + b" " * (n - len(new))
    Path(path).write_bytes(bytes(raw))
