// GGML tensor types: their names and block layouts, and dequantization to f32 that follows ggml's
// dequantize_row_* (ggml-quants.c) operation for operation, so results are bit for bit those of
// ggml and of pip gguf's gguf.quants.dequantize. Blocks are read byte by byte (little-endian), so
// the code neither depends on the host's byte order nor on the alignment of the mapped data.

// A fused multiply-add rounds once where ggml and numpy round twice: keep `x*d + m` unfused even
// where the target has FMA (clang's default contracts within an expression, gcc's across them).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cstring>
#include <string>

#include "core/gguf/gguf_file.h"
#include "core/util/error.h"

namespace mechscope::gguf {

namespace {

constexpr int QK_K = 256;  // elements in a K-quant super-block

// ---------------------------------------------------------------------------------------------
// Reading block fields

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return uint32_t(le16(p)) | (uint32_t(le16(p + 2)) << 16); }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32); }

float f32_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

/// IEEE half → float, exactly (subnormals normalised, inf and NaN payloads kept), as
/// GGML_FP16_TO_FP32 and numpy's float16 → float32.
float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F;
  uint32_t man = h & 0x3FF;
  if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000 | (man << 13));  // inf, NaN
  if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
  if (man == 0) return f32_from_bits(sign);  // ±0
  exp = 113;  // a subnormal half: shift the mantissa up to its leading 1
  while ((man & 0x400) == 0) {
    man <<= 1;
    --exp;
  }
  return f32_from_bits(sign | (exp << 23) | ((man & 0x3FF) << 13));
}

float half(const uint8_t* p) { return fp16_to_fp32(le16(p)); }

// ---------------------------------------------------------------------------------------------
// One block each: `b` points at the block, `y` receives its elements.

void block_f32(const uint8_t* b, float* y) { *y = f32_from_bits(le32(b)); }
void block_f16(const uint8_t* b, float* y) { *y = half(b); }
void block_bf16(const uint8_t* b, float* y) { *y = f32_from_bits(uint32_t(le16(b)) << 16); }
void block_f64(const uint8_t* b, float* y) {
  double d;
  const uint64_t bits = le64(b);
  std::memcpy(&d, &bits, sizeof d);
  *y = float(d);
}
void block_i8(const uint8_t* b, float* y) { *y = float(int8_t(b[0])); }
void block_i16(const uint8_t* b, float* y) { *y = float(int16_t(le16(b))); }
void block_i32(const uint8_t* b, float* y) { *y = float(int32_t(le32(b))); }
void block_i64(const uint8_t* b, float* y) { *y = float(int64_t(le64(b))); }

// block_q4_0: d (f16), qs[16] — low nibbles are elements 0..15, high nibbles 16..31.
void block_q4_0(const uint8_t* b, float* y) {
  const float d = half(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = float((qs[j] & 0x0F) - 8) * d;
    y[j + 16] = float((qs[j] >> 4) - 8) * d;
  }
}

// block_q4_1: d, m (f16), qs[16].
void block_q4_1(const uint8_t* b, float* y) {
  const float d = half(b);
  const float m = half(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = float(qs[j] & 0x0F) * d + m;
    y[j + 16] = float(qs[j] >> 4) * d + m;
  }
}

/// The 5-bit values of a Q5_0/Q5_1 block: nibbles from qs, fifth bits from the 32-bit qh.
void q5_values(const uint8_t* qh_bytes, const uint8_t* qs, int q[32]) {
  const uint32_t qh = le32(qh_bytes);
  for (int j = 0; j < 16; ++j) {
    q[j] = (qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10);
    q[j + 16] = (qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
  }
}

// block_q5_0: d (f16), qh[4], qs[16]; values centred on 16.
void block_q5_0(const uint8_t* b, float* y) {
  const float d = half(b);
  int q[32];
  q5_values(b + 2, b + 6, q);
  for (int j = 0; j < 32; ++j) y[j] = float(q[j] - 16) * d;
}

// block_q5_1: d, m (f16), qh[4], qs[16].
void block_q5_1(const uint8_t* b, float* y) {
  const float d = half(b);
  const float m = half(b + 2);
  int q[32];
  q5_values(b + 4, b + 8, q);
  for (int j = 0; j < 32; ++j) y[j] = float(q[j]) * d + m;
}

// block_q8_0: d (f16), qs[32] (int8).
void block_q8_0(const uint8_t* b, float* y) {
  const float d = half(b);
  for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[2 + j])) * d;
}

// block_q2_K: scales[16] (4-bit scale | 4-bit min), qs[64] (2-bit), d, dmin (f16).
void block_q2_k(const uint8_t* b, float* y) {
  const uint8_t* scales = b;
  const uint8_t* q = b + 16;
  const float d = half(b + 80);
  const float min = half(b + 82);
  int is = 0;
  for (int n = 0; n < QK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half16 = 0; half16 < 32; half16 += 16) {  // two groups of 16, each its own scale
        const uint8_t sc = scales[is++];
        const float dl = d * float(sc & 0xF);
        const float ml = min * float(sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((q[half16 + l] >> shift) & 3) - ml;
      }
    }
    q += 32;
  }
}

/// The sixteen 6-bit scales of a Q3_K block, unpacked from 12 bytes: low 4 bits from bytes 0..7
/// (low nibbles, then high nibbles), high 2 bits from bytes 8..11.
void q3_k_scales(const uint8_t* s, int out[16]) {
  for (int i = 0; i < 16; ++i) {
    const int low = (s[i % 8] >> (4 * (i / 8))) & 0x0F;
    const int high = (s[8 + i % 4] >> (2 * (i / 4))) & 0x03;
    out[i] = (low | (high << 4)) - 32;
  }
}

// block_q3_K: hmask[32] (high bits), qs[64] (low 2 bits), scales[12] (6-bit), d (f16).
void block_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hm = b;
  const uint8_t* q = b + 32;
  int scales[16];
  q3_k_scales(b + 96, scales);
  const float d_all = half(b + 108);
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < QK_K; n += 128) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int half16 = 0; half16 < 32; half16 += 16) {
        const float dl = d_all * float(scales[is++]);
        for (int l = 0; l < 16; ++l) {
          const int low = (q[half16 + l] >> shift) & 3;
          const int offset = (hm[half16 + l] & m) ? 0 : 4;  // a set high bit means no offset
          *y++ = dl * float(low - offset);
        }
      }
      m <<= 1;
    }
    q += 32;
  }
}

/// Scale and min `j` (0..7) of a Q4_K/Q5_K block's 12 packed 6-bit scale bytes
/// (ggml's get_scale_min_k4).
void scale_min_k4(int j, const uint8_t* q, uint8_t& d, uint8_t& m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// block_q4_K: d, dmin (f16), scales[12], qs[128]; 8 sub-blocks of 32, each with scale and min.
void block_q4_k(const uint8_t* b, float* y) {
  const float d = half(b);
  const float min = half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* q = b + 16;
  for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, q += 32) {
    uint8_t sc, m;
    scale_min_k4(is, scales, sc, m);
    const float d1 = d * float(sc), m1 = min * float(m);
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * float(sc), m2 = min * float(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
  }
}

// block_q5_K: d, dmin (f16), scales[12], qh[32], qs[128].
void block_q5_k(const uint8_t* b, float* y) {
  const float d = half(b);
  const float min = half(b + 2);
  const uint8_t* scales = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < QK_K; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    uint8_t sc, m;
    scale_min_k4(is, scales, sc, m);
    const float d1 = d * float(sc), m1 = min * float(m);
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * float(sc), m2 = min * float(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
  }
}

// block_q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), d (f16).
void block_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half(b + 208);
  for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The type table

using BlockFn = void (*)(const uint8_t* block, float* out);

struct TypeTraits {
  uint32_t id;
  const char* name;
  int64_t elements;  // per block
  int64_t bytes;     // per block
  BlockFn dequantize;  // nullptr: sized (files load) but not dequantized
};

/// Every GGML type in ggml.h with its block layout (ggml's type_traits). Numbers ggml retired
/// (4, 5, 31–33, 36–38) and numbers past 41 are absent, so tensors of those types are refused at load.
constexpr TypeTraits kTypes[] = {
    {0, "F32", 1, 4, block_f32},
    {1, "F16", 1, 2, block_f16},
    {2, "Q4_0", 32, 18, block_q4_0},
    {3, "Q4_1", 32, 20, block_q4_1},
    {6, "Q5_0", 32, 22, block_q5_0},
    {7, "Q5_1", 32, 24, block_q5_1},
    {8, "Q8_0", 32, 34, block_q8_0},
    {9, "Q8_1", 32, 36, nullptr},  // d and s as f16 since 2024 (pip gguf still says 40)
    {10, "Q2_K", QK_K, 84, block_q2_k},
    {11, "Q3_K", QK_K, 110, block_q3_k},
    {12, "Q4_K", QK_K, 144, block_q4_k},
    {13, "Q5_K", QK_K, 176, block_q5_k},
    {14, "Q6_K", QK_K, 210, block_q6_k},
    {15, "Q8_K", QK_K, 292, nullptr},
    {16, "IQ2_XXS", QK_K, 66, nullptr},
    {17, "IQ2_XS", QK_K, 74, nullptr},
    {18, "IQ3_XXS", QK_K, 98, nullptr},
    {19, "IQ1_S", QK_K, 50, nullptr},
    {20, "IQ4_NL", 32, 18, nullptr},
    {21, "IQ3_S", QK_K, 110, nullptr},
    {22, "IQ2_S", QK_K, 82, nullptr},
    {23, "IQ4_XS", QK_K, 136, nullptr},
    {24, "I8", 1, 1, block_i8},
    {25, "I16", 1, 2, block_i16},
    {26, "I32", 1, 4, block_i32},
    {27, "I64", 1, 8, block_i64},
    {28, "F64", 1, 8, block_f64},
    {29, "IQ1_M", QK_K, 56, nullptr},
    {30, "BF16", 1, 2, block_bf16},
    {34, "TQ1_0", QK_K, 54, nullptr},
    {35, "TQ2_0", QK_K, 66, nullptr},
    {39, "MXFP4", 32, 17, nullptr},
    {40, "NVFP4", 64, 36, nullptr},
    {41, "Q1_0", 128, 18, nullptr},
};

const TypeTraits* traits(uint32_t type) {
  for (const TypeTraits& t : kTypes) {
    if (t.id == type) return &t;
  }
  return nullptr;
}

/// "type Q8_K (15)" or "unknown type 123", for messages.
std::string describe(uint32_t type) {
  const TypeTraits* t = traits(type);
  return t ? "type " + std::string(t->name) + " (" + std::to_string(type) + ")"
           : "unknown type " + std::to_string(type);
}

}  // namespace

std::string tensor_type_name(uint32_t type) {
  const TypeTraits* t = traits(type);
  return t ? t->name : "type " + std::to_string(type);
}

std::optional<BlockLayout> block_layout(uint32_t type) {
  const TypeTraits* t = traits(type);
  if (t == nullptr) return std::nullopt;
  return BlockLayout{t->elements, t->bytes};
}

bool can_dequantize(uint32_t type) {
  const TypeTraits* t = traits(type);
  return t != nullptr && t->dequantize != nullptr;
}

void dequantize(uint32_t type, const uint8_t* src, int64_t count, float* dst,
                const std::string& what) {
  const TypeTraits* t = traits(type);
  if (t == nullptr || t->dequantize == nullptr) {
    throw Error("Cannot dequantize " + what + ": it has " + describe(type) +
                ", which mechscope cannot dequantize.");
  }
  if (count < 0 || count % t->elements != 0) {
    throw Error("Cannot dequantize " + what + ": " + std::to_string(count) +
                " elements are not a whole number of " + t->name + " blocks of " +
                std::to_string(t->elements) + ".");
  }
  const int64_t blocks = count / t->elements;
  for (int64_t i = 0; i < blocks; ++i) t->dequantize(src + i * t->bytes, dst + i * t->elements);
}

void dequantize_tensor(const File& file, const TensorInfo& t, float* dst) {
  dequantize(t.type, file.tensor_data(t), t.numel(), dst,
             "tensor " + t.name + " of " + file.path().string());
}

}  // namespace mechscope::gguf
