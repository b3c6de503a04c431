#pragma once
// The float32 register tile of the AVX2 small GEMMs (head_gemm_avx2.cpp,
// gemm_f32_avx2.cpp): C[i][j] (+)= sum_k A(i, k) * B[k][j] for MR rows x NV
// vectors of 8 columns, A broadcast and each B vector loaded once per k for
// the MR rows. 6 x 2: 12 accumulators + 2 B vectors + the broadcast in the
// 16 registers. Every output is C * alpha (alpha per column, or 1), or 0,
// then one FMA per k in order: the tiling never changes a bit. Include only
// after a `#pragma GCC target` with AVX2 and FMA (internal linkage).
#include <immintrin.h>

#include <cstdint>

namespace dsinfer::cpu::avx2 {
namespace {

template <int MR, int NV>
inline void f32_tile(int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t ldb, float* c,
                     int64_t ldc, const float* alpha, bool accumulate) {
  __m256 acc[MR][NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const __m256 al = alpha ? _mm256_loadu_ps(alpha + v * 8) : _mm256_set1_ps(1.f);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
      acc[i][v] = accumulate ? _mm256_mul_ps(_mm256_loadu_ps(c + i * ldc + v * 8), al) : _mm256_setzero_ps();
  }
  for (int64_t j = 0; j < k; ++j) {
    __m256 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + j * ldb + v * 8);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i * a_row + j * a_col);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) _mm256_storeu_ps(c + i * ldc + v * 8, acc[i][v]);
}

// One column panel of NV vectors for rows [0, m): 6-, 2-, then 1-row tiles.
template <int NV>
inline void f32_panel(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t ldb,
                      float* c, int64_t ldc, const float* alpha, bool accumulate) {
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) f32_tile<6, NV>(k, a + i * a_row, a_row, a_col, b, ldb, c + i * ldc, ldc, alpha, accumulate);
  for (; i + 2 <= m; i += 2) f32_tile<2, NV>(k, a + i * a_row, a_row, a_col, b, ldb, c + i * ldc, ldc, alpha, accumulate);
  for (; i < m; ++i) f32_tile<1, NV>(k, a + i * a_row, a_row, a_col, b, ldb, c + i * ldc, ldc, alpha, accumulate);
}

}  // namespace
}  // namespace dsinfer::cpu::avx2
