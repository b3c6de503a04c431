#pragma once
// AVX2 + FMA + F16C kernels behind cpu::linear_rows for CPUs without AVX-512
// (AMD Zen 2 / Zen 3 servers, Intel client cores): compiled with a target
// pragma in linear_avx2.cpp; call them only where cpu_features().avx2 says
// the CPU has the ISA. Dot form as the AVX-512 tiles: R weight rows x T
// tokens, both operands streamed along K from their stored layouts (no
// repacked copy). Each (row, token) output is one accumulator summed over K
// in one fixed order, whatever the row or token tile it falls in, so a
// token's result never depends on how many tokens share its step (MTP
// verify steps reproduce plain decode bit for bit).
#include <cstdint>

namespace dsinfer::cpu::avx2 {

// W8A8: acc = sum_k w[r,k] * xq[t,k] exactly in int32 (vpmaddubsw on |w|
// and x carrying w's sign: pair sums stay below 2^15, so nothing
// saturates; -128 weights are exact as unsigned 128). Writes
// y[t*ldy + r - out_row0] = float(acc) * xs[t] * ws[r] when y is given (the
// expression of the scalar and AVX-512 paths: bit-identical), else
// acc32[t*ldy + r - out_row0] = acc. xq rows are cols bytes apart and hold
// values in [-127, 127] (as quantize_int8 makes them); weights may be -128.
void int8_rows(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const int8_t* xq, int64_t t0, int64_t t1,
               const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy, int64_t out_row0);

// FP8 e4m3 block-scaled weights x float32 activations (x rows cols apart).
// Each code becomes its exact fp16 image times 2^-8 (sign-extend, shift,
// mask: subnormals included, no float32 denormal is ever formed) and
// vcvtph2ps widens it; each scale block (block_cols columns) is one FMA chain per
// output over those images, added times scale * 2^8 into the output's
// chain at the block's end. Needs block_cols % 16 == 0.
void fp8_rows(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols, int64_t block_rows,
              int64_t block_cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1, float* y,
              int64_t ldy, int64_t out_row0);

// BF16 weights x float32 activations: exact widening, one FMA chain per output.
void bf16f32_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                  float* y, int64_t ldy, int64_t out_row0);

// Per-token symmetric int8 quantization, bit-identical to the scalar
// quantize_per_token_int8 (the same division and round-half-even).
void quantize_int8(const float* x, int64_t n_tokens, int64_t cols, int8_t* q, float* scales);

// One weight row as float32, bit-identical to LinearWeight::dequant_row
// (FP8: needs block_cols % 16 == 0).
void dequant_fp8_row(const uint8_t* src, const float* scale_row, int64_t cols, int64_t block_cols, float* out);
void dequant_bf16_row(const uint16_t* src, int64_t cols, float* out);

}  // namespace dsinfer::cpu::avx2
