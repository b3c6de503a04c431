#pragma once
// The block-scaled skeleton the FP8 register tiles share (scaled form in
// linear_avx512.cpp, byte tables in fp8_lut_avx512.cpp): R rows x T tokens,
// per (block_rows x block_cols) block the float32 sums of w * x, times the
// block's scale, summed over blocks, one horizontal reduction per output.
// Include only after a `#pragma GCC target` with AVX-512 (header-only,
// instantiated in each kernel file with that file's ISA).
#include <immintrin.h>

#include <cstdint>

namespace dsinfer::cpu::avx512 {

struct Fp8Weight {
  const uint8_t* data;
  int64_t cols;
  const float* scale;
  int64_t scale_cols, block_rows, block_cols;
};

// out[i][t] for rows r + i * row_step (i < R). block(rows, c0, c1, blk) adds
// columns [c0, c1) of each row times x to blk[R][T] (zeroed per block); each
// block sum is multiplied by scale * scale_factor.
template <int R, int T, class Block>
inline void fp8_block_scaled_tile(const Fp8Weight& w, int64_t r, float scale_factor, float out[R][T], Block&& block,
                                  int64_t row_step = 1) {
  __m512 tot[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) tot[i][t] = _mm512_setzero_ps();
  const uint8_t* rows[R];
  const float* srow[R];
  for (int i = 0; i < R; ++i) {
    rows[i] = w.data + (r + i * row_step) * w.cols;
    srow[i] = w.scale + ((r + i * row_step) / w.block_rows) * w.scale_cols;
  }
  for (int64_t c0 = 0, b = 0; c0 < w.cols; c0 += w.block_cols, ++b) {
    const int64_t c1 = c0 + w.block_cols < w.cols ? c0 + w.block_cols : w.cols;
    __m512 blk[R][T];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) blk[i][t] = _mm512_setzero_ps();
    block(rows, c0, c1, blk);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m512 s = _mm512_set1_ps(srow[i][b] * scale_factor);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) tot[i][t] = _mm512_fmadd_ps(blk[i][t], s, tot[i][t]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) out[i][t] = _mm512_reduce_add_ps(tot[i][t]);
}

// x rows in groups of 64 columns reordered for a tile's lanes: position p of
// each group holds column column_of(p) of the group (0 past cols); rows
// `ld` apart (ld a multiple of 64).
template <class ColumnOf>
inline void permute_x_per_64(const float* x, int64_t n_tokens, int64_t cols, int64_t ld, float* out,
                             ColumnOf column_of) {
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t k = 0; k < ld; k += 64)
      for (int p = 0; p < 64; ++p) {
        const int64_t c = k + column_of(p);
        out[t * ld + k + p] = c < cols ? x[t * cols + c] : 0.f;
      }
}

}  // namespace dsinfer::cpu::avx512
