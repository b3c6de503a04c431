#pragma once
// AVX-512 kernels behind cpu::linear_rows (compiled with target attributes in
// linear_avx512.cpp; call them only when cpu_features() says the CPU has the
// ISA). All are "dot form" register tiles: R weight rows x T tokens, both
// operands streamed along K, so weights are used in their stored row-major
// layout (no repacked copy) and each weight vector loaded is reused for T
// tokens. The caller splits rows over threads and tokens into L2-sized blocks.
#include <cstdint>

namespace dsinfer::cpu::avx512 {

// W8A8 (needs VNNI). acc = sum_k w[r,k] * xq[t,k] exactly in int32 (vpdpbusd on
// w+128 as unsigned, minus 128 * xsum[t]). Writes y[t*ldy + r - r0] =
// float(acc) * xs[t] * ws[r] when y is given, else acc32[t*ldy + r - r0] = acc.
void int8_rows(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const int8_t* xq, const int32_t* xsum,
               int64_t t0, int64_t t1, const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy,
               int64_t out_row0);

// W8A8 for many tokens (prefill), "broadcast form": 32 weight rows are packed
// per call into a small buffer (w+128 as unsigned, layout [ceil(cols/4)][32][4]
// bytes, so one zmm holds 4 k-values of 16 rows) and each token's 4 bytes are
// broadcast. A 12-token x 32-row tile keeps 24 accumulators over the whole K,
// so per 24 vpdpbusd only 128 weight bytes (L2) and 48 activation bytes are
// read, instead of 640 bytes for the dot-form tile. Same int32 sums and the
// same epilogue as int8_rows, so results are bit-identical.
constexpr int64_t kInt8PanelRows = 32;
inline int64_t int8_panel_bytes(int64_t cols) { return (cols + 63) / 64 * 64 * kInt8PanelRows; }
// Packs rows [r0, r0 + nr) (nr <= 32) of w; padding rows and columns are 0.
void int8_pack_panel(const int8_t* w, int64_t cols, int64_t r0, int64_t nr, uint8_t* pack);
// Same outputs as int8_rows for rows [r0, r0 + nr) of a packed panel. xq rows
// are ldx bytes apart and each must be readable up to cols rounded up to 4.
void int8_panel_rows(const uint8_t* pack, int64_t cols, int64_t r0, int64_t nr, const int8_t* xq, int64_t ldx,
                     const int32_t* xsum, int64_t t0, int64_t t1, const float* xs, const float* ws, float* y,
                     int32_t* acc32, int64_t ldy, int64_t out_row0);

// BF16 weights x float32 activations, exact products, float32 sums (default).
// x was permuted by bf16f32_permute_x (rows bf16f32_x_stride(cols) apart), so
// the tiles widen the weights without cross-lane shuffles; one summation
// order for every token count.
void bf16f32_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1,
                  float* y, int64_t ldy, int64_t out_row0);
inline int64_t bf16f32_x_stride(int64_t cols) { return (cols + 31) / 32 * 32; }
// Per 32 columns: the 16 even-indexed values, then the 16 odd ones (zero pad).
void bf16f32_permute_x(const float* x, int64_t n_tokens, int64_t cols, float* out);
// BF16 weights x bf16-rounded activations, float32 accumulation (needs
// AVX512_BF16): twice the rate, but activations lose 16 mantissa bits (opt-in).
void bf16_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint16_t* xb, int64_t t0, int64_t t1,
               float* y, int64_t ldy, int64_t out_row0);

// BF16 x bf16 GEMM for many tokens (prefill linears, attention scores and
// values), broadcast form as the int8 panels: 32 output rows packed as
// [ceil(k/2)][32] dwords, dword = (w[r][2g], w[r][2g+1]); pack is 64-byte
// aligned, bf16_panel_elems(k) uint16 long, padding 0.
constexpr int64_t kBf16PanelRows = 32;
inline int64_t bf16_panel_elems(int64_t k) { return (k + 1) / 2 * 2 * kBf16PanelRows; }
// From row-major w (row r at w + r * ldw, k elements), rows [0, nr), nr <= 32.
void bf16_pack_panel(const uint16_t* w, int64_t ldw, int64_t k, int64_t nr, uint16_t* pack);
// From k-major v (k-th vector at v + k * ldv holding the nr row values), e.g.
// the value matrix [keys][v_dim] of attention with rows = v_dim.
void bf16_pack_panel_kmajor(const uint16_t* v, int64_t ldv, int64_t k, int64_t nr, uint16_t* pack);
// y[t * ldy + r] (+)= sum_k x[t * ldx + k] * w[r][k] for t < n_tokens, r < nr,
// float32 accumulation. x rows are read in pairs: when k is odd, x[t][k] must
// be readable and finite (the packed weight there is 0).
// prefetch: bytes to pull into L2 while the products run (the weight rows
// the calling thread will pack next), one line per k pair.
void bf16_panel_rows(const uint16_t* pack, int64_t k, int64_t nr, const uint16_t* x, int64_t ldx, int64_t n_tokens,
                     float* y, int64_t ldy, bool accumulate, const void* prefetch = nullptr, int64_t prefetch_bytes = 0);

// BF16 weights x float32 activations for many tokens, exact float32 products
// (the fp32-accuracy form of prefill's kv_b expansion where AMX is absent):
// 32 rows widened to float32 and packed k-major, [k][32] floats, 64-byte
// aligned, padding 0; each product broadcasts one activation. A token's
// output is one FMA chain over k in order, whatever the token count.
inline int64_t f32_panel_elems(int64_t k) { return k * kBf16PanelRows; }
void bf16_pack_f32_panel(const uint16_t* w, int64_t ldw, int64_t k, int64_t nr, float* pack);
// y[t * ldy + r] = sum_k x[t * ldx + k] * w[r][k] for t < n_tokens, r < nr.
void f32_panel_rows(const float* pack, int64_t k, int64_t nr, const float* x, int64_t ldx, int64_t n_tokens, float* y,
                    int64_t ldy);

// FP8 e4m3 block-scaled weights x float32 activations. The e4m3 bits are placed
// into a float32 (value * 2^-120, exact incl. subnormals) and 2^120 is folded
// into the block scale; scale * 2^120 must be finite (see fp8_scales_foldable).
// permuted_x: x was permuted by fp8_permute_x (needs block_cols % 64 == 0;
// the tiles widen without cross-lane shuffles), else x is plain [t][cols].
void fp8_rows(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols, int64_t block_rows,
              int64_t block_cols, int64_t r0, int64_t r1, const float* x, bool permuted_x, int64_t t0, int64_t t1,
              float* y, int64_t ldy, int64_t out_row0);
inline int64_t fp8_x_stride(int64_t cols) { return (cols + 63) / 64 * 64; }

// How far ahead of their loads the weight tiles fetch each row (bytes).
inline constexpr int64_t kRowAheadBytes = 2048;
// Per 64 columns: four groups of 16, group j holding columns 4i + j (zero pad).
void fp8_permute_x(const float* x, int64_t n_tokens, int64_t cols, float* out);

// FP8 e4m3 through byte tables (needs AVX512_VBMI): two vpermt2b look up the
// high and low byte of each code's bf16 image (every e4m3 value, subnormals
// included, is an exact bf16 normal), widened to float32 without cross-lane
// shuffles. No float32 denormal is ever formed (the scaled form above makes
// one of every e4m3 subnormal, and denormal operands cost x86 cores a
// microcode assist each), and no scale folding is needed. x is permuted by
// fp8_lut_permute_x (rows fp8_x_stride(cols) apart); needs block_cols % 64 == 0.
// Tiles of 8 rows x 1 token or 4 rows x 2 tokens (more tokens re-widen per tile).
void fp8_lut_rows(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols, int64_t block_rows,
                  int64_t block_cols, int64_t r0, int64_t r1, const float* x, int64_t t0, int64_t t1, float* y,
                  int64_t ldy, int64_t out_row0);
// Per 64 columns c0..c0+63, lane i = 4L + d (L = 128-bit lane, d < 4): group 0
// holds column c0 + 16L + 2d, group 1 that + 1, group 2 that + 8, group 3 + 9.
void fp8_lut_permute_x(const float* x, int64_t n_tokens, int64_t cols, float* out);

// y[t * ldy + c] = sum_{d < n_rows} x[t * ldx + d] * W[r0 + d][c] for every
// column c (x indexes the weight's rows: the MLA query absorption), each
// weight byte read once, bit-identical to dequant_*_row + gemm_f32 (see
// left_multiply_tile.h). FP8 needs AVX512_VBMI and cols, block_cols % 64 ==
// 0; bf16 cols % 32 == 0.
void fp8_lut_left_multiply(const uint8_t* w, int64_t cols, const float* scale, int64_t scale_cols,
                           int64_t block_rows, int64_t block_cols, int64_t r0, int64_t n_rows, const float* x,
                           int64_t ldx, int64_t n_tokens, float* y, int64_t ldy);
void bf16_left_multiply(const uint16_t* w, int64_t cols, int64_t r0, int64_t n_rows, const float* x, int64_t ldx,
                        int64_t n_tokens, float* y, int64_t ldy);

// Per-token symmetric int8 quantization, bit-identical to the scalar
// quantize_per_token_int8; also returns each token's sum of q.
void quantize_int8(const float* x, int64_t n_tokens, int64_t cols, int8_t* q, float* scales, int32_t* sums);
// float32 -> bf16, round to nearest even (n elements).
void to_bf16(const float* x, int64_t n, uint16_t* out);

// One weight row as float32, bit-identical to LinearWeight::dequant_row.
void dequant_fp8_row(const uint8_t* src, const float* scale_row, int64_t cols, int64_t block_cols, float* out);
// The same through the byte tables (AVX512_VBMI, block_cols % 64 == 0): no
// float32 denormal operand (each costs a microcode assist).
void fp8_lut_dequant_row(const uint8_t* src, const float* scale_row, int64_t cols, int64_t block_cols, float* out);
void dequant_bf16_row(const uint16_t* src, int64_t cols, float* out);

}  // namespace dsinfer::cpu::avx512
