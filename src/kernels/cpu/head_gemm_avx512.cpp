// AVX-512 bodies of head_gemm.h (target pragma; no standard templates here).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/head_gemm.h"

#include "kernels/cpu/avx512_region_begin.h"

#include "kernels/cpu/vector_exp_avx512.h"
#include "kernels/cpu/tail_masks_avx512.h"

namespace dsinfer::cpu::avx512 {
namespace {

// Register tile: MR rows x NV vectors of 16 heads, accumulated over k with
// A broadcast and B rows loaded once per k for all MR rows.
template <int MR, int NV>
inline void tile(int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp, float* out,
                 const float* alpha, bool accumulate) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const __m512 al = alpha ? _mm512_loadu_ps(alpha + v * 16) : _mm512_set1_ps(1.f);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
      acc[i][v] = accumulate ? _mm512_mul_ps(_mm512_loadu_ps(out + i * hp + v * 16), al) : _mm512_setzero_ps();
  }
  for (int64_t j = 0; j < k; ++j) {
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(b + j * hp + v * 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i * a_row + j * a_col]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(out + i * hp + v * 16, acc[i][v]);
}

// Six rows x up to 4 vectors: 24 accumulators + 4 B vectors + the broadcast
// fit the 32 registers, so each B vector is loaded once per k for six rows
// (3 x 8 needed 33: GCC then re-read B from memory for every row, which made
// the scores GEMM, whose B is ~300 KB in L2, L2-bound at ~35 % of the fp32
// peak). Every output is the same FMA chain over k whatever the tiling.
template <int NV>
void rows(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp, float* out,
          const float* alpha, bool accumulate) {
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) tile<6, NV>(k, a + i * a_row, a_row, a_col, b, hp, out + i * hp, alpha, accumulate);
  for (; i + 2 <= m; i += 2) tile<2, NV>(k, a + i * a_row, a_row, a_col, b, hp, out + i * hp, alpha, accumulate);
  for (; i < m; ++i) tile<1, NV>(k, a + i * a_row, a_row, a_col, b, hp, out + i * hp, alpha, accumulate);
}

}  // namespace

void head_gemm(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp,
               float* out, const float* alpha, bool accumulate) {
  // Column panels of at most 4 vectors (64 heads).
  for (int64_t h0 = 0; h0 < hp; h0 += 64) {
    const int nv = static_cast<int>((hp - h0 < 64 ? hp - h0 : 64) / 16);
    const float* bp = b + h0;
    float* op = out + h0;
    const float* al = alpha ? alpha + h0 : nullptr;
    switch (nv) {
      case 4: rows<4>(m, k, a, a_row, a_col, bp, hp, op, al, accumulate); break;
      case 3: rows<3>(m, k, a, a_row, a_col, bp, hp, op, al, accumulate); break;
      case 2: rows<2>(m, k, a, a_row, a_col, bp, hp, op, al, accumulate); break;
      default: rows<1>(m, k, a, a_row, a_col, bp, hp, op, al, accumulate); break;
    }
  }
}

// exp(x) = 2^n * e^r, n = round(x / ln2), r = x - n ln2 (two-part ln2), e^r by
// a degree-7 Taylor/Horner polynomial on |r| <= ln2/2.
void exp_inplace(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask16(n - i);
    _mm512_mask_storeu_ps(x + i, m, exp16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace dsinfer::cpu::avx512

#include "kernels/cpu/avx512_region_end.h"
