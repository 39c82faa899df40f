#!/usr/bin/env python3
"""GGUF golden models: the tiny random HF models of tests/golden/models/, converted to GGUF as llama.cpp's
convert_hf_to_gguf.py does, plus a few broken files for the loader's error tests.

What it writes (tests/golden/gguf_models/):

    <name>.gguf                 f32 GGUF of tests/golden/models/<source>; the C++ test compares its logits with
                                that folder's expected.safetensors (the HF logits) within 1e-4
    <name>.gguf + <name>.expected.safetensors
                                quantized variants (Q8_0, Q4_1 where a row is a whole number of 32-blocks, F32
                                elsewhere, as llama.cpp falls back): input_ids and the logits HF computes with the
                                DEQUANTIZED weights (gguf.quants.dequantize), so the C++ loader is checked exactly
                                (1e-4); the metadata records how far the quantized model's logits are from the f32
                                ones (the quantization error itself, for the record)
    bad_*.gguf                  a micro Llama with one defect each (unknown architecture, missing key, wrong shape,
                                a tensor type mechscope cannot dequantize, an extra tensor)

The conversion follows convert_hf_to_gguf.py (ggml-org/llama.cpp, conversion/*.py) per architecture:
  * names from gguf-py's tensor_mapping (token_embd, blk.N.attn_q, ffn_gate, output_norm, output, ...); tied
    embeddings leave out output.weight;
  * llama: q/k rows permuted into RoPE interleaved-pairs order (LlamaModel.permute);
  * gemma/gemma2/gemma3: every *norm.weight stored as 1 + w;
  * gpt2: Conv1D weights transposed to [out, in];
  * gptneox: the per-head q|k|v rows of query_key_value regrouped as q | k | v;
  * metadata keys as the converter writes them. Beyond the converter, for fidelity of these test models:
    gptneox.rope.freq_base (the model uses base 500; llama.cpp reads the key for every architecture),
    gemma2/3 attention.scale = 1/sqrt(query_pre_attn_scalar) (llama.cpp derives the scale from the head size,
    and these models use another), gemma3 attention.sliding_window_pattern as one flag per layer (this model's
    layer_types are not HF's every-6th default) and rope.freq_base_swa.
Where transformers reads the architecture from GGUF (llama, qwen2, gemma2, gemma3, gpt2), the script also reads
each f32 file with transformers' load_gguf_checkpoint (its own reverse mapping) and checks it gives back the HF
checkpoint's tensors exactly: an independent check of the conversion.

    .venv/bin/python tests/reference/make_gguf_model_goldens.py     # from the repository root (a few seconds)

Made with transformers 5.24.0, torch 2.15.0, gguf (pip) 0.17+.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gguf  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_io import save_golden  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()
torch.set_num_threads(min(2, os.cpu_count() or 1))

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "tests" / "golden" / "models"
OUT = REPO / "tests" / "golden" / "gguf_models"
Q = gguf.GGMLQuantizationType

# name of the GGUF golden, source folder in tests/golden/models, general.architecture, quantization
SPECS = [
    ("llama_gqa", "llama_gqa", "llama", None),
    ("llama_gqa_q8_0", "llama_gqa", "llama", Q.Q8_0),
    ("qwen2", "qwen2", "qwen2", None),
    ("qwen2_q4_1", "qwen2", "qwen2", Q.Q4_1),
    ("gemma", "gemma", "gemma", None),
    ("gemma2", "gemma2", "gemma2", None),
    ("gemma3", "gemma3", "gemma3", None),
    ("gpt2", "gpt2", "gpt2", None),
    ("neox_sequential", "neox_sequential", "gptneox", None),
]
TRANSFORMERS_GGUF = {"llama", "qwen2", "gemma2", "gemma3", "gpt2"}


def llama_permute(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """convert_hf_to_gguf.py LlamaModel.permute: rotate-half rows → interleaved pairs."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def hf_layer_map(arch: str) -> dict[str, str]:
    """HF module path after the layer prefix → GGUF name after blk.N. (gguf-py tensor_mapping)."""
    if arch == "gpt2":
        return {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
                "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}
    if arch == "gptneox":
        return {"input_layernorm": "attn_norm", "attention.query_key_value": "attn_qkv",
                "attention.dense": "attn_output", "post_attention_layernorm": "ffn_norm",
                "mlp.dense_h_to_4h": "ffn_up", "mlp.dense_4h_to_h": "ffn_down"}
    m = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
         "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
         "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
         "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm"}
    if arch in ("gemma2", "gemma3"):
        m.update({"post_attention_layernorm": "post_attention_norm", "pre_feedforward_layernorm": "ffn_norm",
                  "post_feedforward_layernorm": "post_ffw_norm"})
    return m


GLOBAL_MAP = {
    "model.embed_tokens": "token_embd", "model.norm": "output_norm", "lm_head": "output",
    "transformer.wte": "token_embd", "transformer.wpe": "position_embd", "transformer.ln_f": "output_norm",
    "gpt_neox.embed_in": "token_embd", "gpt_neox.final_layer_norm": "output_norm", "embed_out": "output",
}
LAYER_PREFIX = {"gpt2": "transformer.h.", "gptneox": "gpt_neox.layers."}


def gguf_name(arch: str, hf_name: str) -> str:
    module, suffix = hf_name.rsplit(".", 1)
    if module in GLOBAL_MAP:
        return f"{GLOBAL_MAP[module]}.{suffix}"
    prefix = LAYER_PREFIX.get(arch, "model.layers.")
    assert module.startswith(prefix), hf_name
    layer, rest = module[len(prefix):].split(".", 1)
    return f"blk.{layer}.{hf_layer_map(arch)[rest]}.{suffix}"


def to_gguf_tensor(arch: str, cfg, hf_name: str, t: torch.Tensor) -> torch.Tensor:
    """What convert_hf_to_gguf.py's modify_tensors does to each HF tensor."""
    if arch == "llama" and hf_name.endswith(("q_proj.weight", "q_proj.bias")):
        t = llama_permute(t, cfg.num_attention_heads)
    if arch == "llama" and hf_name.endswith(("k_proj.weight", "k_proj.bias")):
        t = llama_permute(t, cfg.num_key_value_heads)
    if arch.startswith("gemma") and hf_name.endswith("norm.weight"):
        t = t + 1
    if arch == "gpt2" and hf_name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
        t = t.T
    if arch == "gptneox" and "query_key_value" in hf_name:
        h, d = cfg.num_attention_heads, cfg.hidden_size
        t = t.reshape(h, 3, d // h, *t.shape[1:]).transpose(0, 1).reshape(t.shape)
    return t.contiguous()


def from_gguf_tensor(arch: str, cfg, hf_name: str, t: torch.Tensor) -> torch.Tensor:
    """The inverse of to_gguf_tensor (for running dequantized weights through HF)."""
    if arch == "llama" and hf_name.endswith(("q_proj.weight", "k_proj.weight")):
        n = cfg.num_attention_heads if "q_proj" in hf_name else cfg.num_key_value_heads
        t = t.reshape(n, t.shape[0] // n // 2, 2, *t.shape[1:]).swapaxes(1, 2).reshape(t.shape)
    if arch.startswith("gemma") and hf_name.endswith("norm.weight"):
        t = t - 1
    if arch == "gpt2" and hf_name.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
        t = t.T
    if arch == "gptneox" and "query_key_value" in hf_name:
        h, d = cfg.num_attention_heads, cfg.hidden_size
        t = t.reshape(3, h, d // h, *t.shape[1:]).transpose(0, 1).reshape(t.shape)
    return t.contiguous()


def write_metadata(w: gguf.GGUFWriter, arch: str, cfg, name: str) -> None:
    w.add_name(name)
    w.add_vocab_size(cfg.vocab_size)
    if arch == "gpt2":
        w.add_context_length(cfg.n_positions)
        w.add_embedding_length(cfg.n_embd)
        w.add_feed_forward_length(cfg.n_inner or 4 * cfg.n_embd)
        w.add_block_count(cfg.n_layer)
        w.add_head_count(cfg.n_head)
        w.add_layer_norm_eps(cfg.layer_norm_epsilon)
        return
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    if arch == "gptneox":
        head = cfg.hidden_size // cfg.num_attention_heads
        w.add_rope_dimension_count(int(cfg.rope_parameters["partial_rotary_factor"] * head))
        w.add_parallel_residual(cfg.use_parallel_residual)
        w.add_layer_norm_eps(cfg.layer_norm_eps)
        w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
        return
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    head = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    rope = cfg.rope_parameters
    if arch in ("llama", "qwen2"):
        w.add_rope_freq_base(rope["rope_theta"])
        w.add_rope_dimension_count(head)
    if arch.startswith("gemma"):
        w.add_key_length(head)
        w.add_value_length(head)
    if arch in ("gemma2", "gemma3"):
        if cfg.attn_logit_softcapping is not None and arch == "gemma2":
            w.add_attn_logit_softcapping(cfg.attn_logit_softcapping)
        if cfg.final_logit_softcapping is not None:
            w.add_final_logit_softcapping(cfg.final_logit_softcapping)
        w.add_sliding_window(cfg.sliding_window)
        w.add_float32(f"{arch}.attention.scale", 1.0 / cfg.query_pre_attn_scalar ** 0.5)
    if arch == "gemma2":
        w.add_rope_freq_base(rope["rope_theta"])
    if arch == "gemma3":
        w.add_rope_freq_base(rope["full_attention"]["rope_theta"])
        w.add_float32("gemma3.rope.freq_base_swa", rope["sliding_attention"]["rope_theta"])
        full = rope["full_attention"]
        if full.get("rope_type", "default") == "linear":
            w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            w.add_rope_scaling_factor(full["factor"])
        w.add_sliding_window_pattern([t == "sliding_attention" for t in cfg.layer_types])


def quantizable(t: np.ndarray, qtype) -> bool:
    return qtype is not None and t.ndim == 2 and t.shape[-1] % 32 == 0


def convert(name: str, source: str, arch: str, qtype, out: Path) -> dict[str, torch.Tensor]:
    """Writes the GGUF; returns the HF state dict as the file holds it (dequantized, HF layout)."""
    folder = MODELS / source
    cfg = transformers.AutoConfig.from_pretrained(folder)
    state = load_file(str(folder / "model.safetensors"))
    w = gguf.GGUFWriter(str(out), arch)
    write_metadata(w, arch, cfg, name)
    if qtype is not None:
        w.add_file_type({Q.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0, Q.Q4_1: gguf.LlamaFileType.MOSTLY_Q4_1}[qtype])
    held = {}
    for hf_name, t in state.items():
        g = to_gguf_tensor(arch, cfg, hf_name, t.float()).numpy()
        if quantizable(g, qtype):
            raw = gguf.quants.quantize(g, qtype)
            w.add_tensor(gguf_name(arch, hf_name), raw, raw_dtype=qtype)
            g = gguf.quants.dequantize(raw, qtype)
        else:
            w.add_tensor(gguf_name(arch, hf_name), g)
        held[hf_name] = from_gguf_tensor(arch, cfg, hf_name, torch.from_numpy(np.ascontiguousarray(g)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return held


def hf_logits(source: str, state: dict[str, torch.Tensor], input_ids: torch.Tensor) -> torch.Tensor:
    folder = MODELS / source
    cfg = transformers.AutoConfig.from_pretrained(folder)
    cfg._attn_implementation = "eager"
    model = transformers.AutoModelForCausalLM.from_config(cfg).eval()
    # transformers 5 names GPT-NeoX's embed_out lm_head (renamed when it loads a checkpoint)
    state = {("lm_head.weight" if k == "embed_out.weight" else k): v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all("lm_head" in m for m in missing), (missing, unexpected)
    model.tie_weights()
    with torch.no_grad():
        return model(input_ids).logits


def transformers_weights_diff(source: str, path: Path) -> float:
    """transformers' own GGUF reader (its reverse name mapping, un-permutation, norm offset) applied to our
    file must give back the HF checkpoint's tensors. (Its config mapping is lossy for these test models:
    no attention.scale, layer types or soft-capping, so logits through it are not compared.)"""
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    folder = MODELS / source
    cfg = transformers.AutoConfig.from_pretrained(folder)
    model = transformers.AutoModelForCausalLM.from_config(cfg)
    got = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=model)["tensors"]
    want = load_file(str(folder / "model.safetensors"))
    common = set(got) & set(want)  # transformers 5.24 drops gemma2's untied output.weight
    assert len(common) >= len(want) - 1, sorted(set(want) - set(got))
    return max((got[k].float() - want[k].float()).abs().max().item() for k in common)


def write_bad_files() -> None:
    """A micro Llama (1 layer) with one defect per file, for the loader's error messages."""
    def micro(path: Path, arch="llama", skip_key=None, shape_bug=False, type_bug=False, extra=False):
        rng = np.random.default_rng(7)
        w = gguf.GGUFWriter(str(path), arch)
        keys = {"context_length": 16, "embedding_length": 32, "block_count": 1, "feed_forward_length": 32,
                "attention.head_count": 4, "attention.head_count_kv": 4}
        for k, v in keys.items():
            if k != skip_key:
                w.add_uint32(f"{arch}.{k}", v)
        w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-5)
        shapes = {"token_embd.weight": (8, 32), "output_norm.weight": (32,), "blk.0.attn_norm.weight": (32,),
                  "blk.0.attn_q.weight": (32, 32), "blk.0.attn_k.weight": (32, 32), "blk.0.attn_v.weight": (32, 32),
                  "blk.0.attn_output.weight": (32, 32), "blk.0.ffn_norm.weight": (32,),
                  "blk.0.ffn_gate.weight": (32, 32), "blk.0.ffn_up.weight": (32, 32),
                  "blk.0.ffn_down.weight": (32, 32)}
        if shape_bug:
            shapes["blk.0.ffn_up.weight"] = (24, 32)
        if extra:
            shapes["rope_freqs.weight"] = (4,)
        for n, s in shapes.items():
            if type_bug and n == "blk.0.attn_v.weight":  # IQ4_NL: 18 bytes per 32 values
                w.add_tensor(n, np.zeros((32, 18), dtype=np.uint8), raw_dtype=Q.IQ4_NL)
            else:
                w.add_tensor(n, rng.standard_normal(s).astype(np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()

    micro(OUT / "bad_ok.gguf")
    micro(OUT / "bad_arch.gguf", arch="mamba")
    micro(OUT / "bad_missing_key.gguf", skip_key="block_count")
    micro(OUT / "bad_shape.gguf", shape_bug=True)
    micro(OUT / "bad_type.gguf", type_bug=True)
    micro(OUT / "bad_extra_tensor.gguf", extra=True)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    ok = True
    report = []
    for name, source, arch, qtype in SPECS:
        path = OUT / f"{name}.gguf"
        held = convert(name, source, arch, qtype, path)
        expected = load_file(str(MODELS / source / "expected.safetensors"))
        ids, golden = expected["input_ids"], expected["logits"].float()
        got = hf_logits(source, held, ids)
        if qtype is None:
            err = (got - golden).abs().max().item()
            ok &= err <= 1e-5
            line = f"{name}: f32 round trip through HF, max |Δ logits| = {err:.2e}"
            if arch in TRANSFORMERS_GGUF:
                e2 = transformers_weights_diff(source, path)
                line += f"; transformers' GGUF reader gives the HF weights back within {e2:.1e}"
                ok &= e2 <= 1e-6  # Gemma: transformers subtracts the 1 again in f32
        else:
            quant_err = (got - golden).abs().max().item()
            save_golden(OUT / f"{name}.expected.safetensors", {"input_ids": ids, "logits": got},
                        {"source": source, "quantization": qtype.name,
                         "max_abs_diff_from_f32_logits": f"{quant_err:.6g}",
                         "transformers": transformers.__version__, "torch": torch.__version__})
            line = f"{name}: {qtype.name}, HF logits from the dequantized weights; quantization moves logits " \
                   f"by up to {quant_err:.3g} from f32"
        report.append(line)
        print(line)
    write_bad_files()
    sizes = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"total size of {OUT.relative_to(REPO)}: {sizes / 1e6:.2f} MB")
    if not ok:
        print("SELF-CHECK FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
