// AVX-512 body of gemm_f32 (target pragma; called only when the CPU has it).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/gemm_f32.h"

#include "kernels/cpu/avx512_region_begin.h"
#include "kernels/cpu/tail_masks_avx512.h"

namespace dsinfer::cpu::avx512 {
namespace {

// Register tile of MR rows x NV vectors (16 columns each): per k step, NV
// loads of B and MR broadcasts of A feed MR*NV FMAs. `mask` limits the last
// vector when the tile is the ragged right edge (Ragged; whole tiles load
// plainly: masked loads in the k loop cost bandwidth on some cores).
template <int MR, int NV, bool Ragged>
inline void tile(int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t ldb, float* c,
                 int64_t ldc, bool accumulate, __mmask16 last_mask) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const __mmask16 mk = v == NV - 1 ? last_mask : static_cast<__mmask16>(0xffff);
      acc[i][v] = accumulate ? _mm512_maskz_loadu_ps(mk, c + i * ldc + v * 16) : _mm512_setzero_ps();
    }
  const float* ak = a;
  const float* bk = b;
  for (int64_t kk = 0; kk < k; ++kk, ak += a_col, bk += ldb) {
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV - 1; ++v) bv[v] = _mm512_loadu_ps(bk + v * 16);
    bv[NV - 1] = Ragged ? _mm512_maskz_loadu_ps(last_mask, bk + (NV - 1) * 16) : _mm512_loadu_ps(bk + (NV - 1) * 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(ak[i * a_row]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const __mmask16 mk = v == NV - 1 ? last_mask : static_cast<__mmask16>(0xffff);
      _mm512_mask_storeu_ps(c + i * ldc + v * 16, mk, acc[i][v]);
    }
}

// One column panel [j, j + width) for every row: the panel of B (k x 64
// floats) stays in L1/L2 while all row groups of A stream past it.
template <int NV, bool Ragged>
void panel(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t ldb, float* c,
           int64_t ldc, bool accumulate, __mmask16 last_mask) {
  int64_t i = 0;
  for (; i + 6 <= m; i += 6) tile<6, NV, Ragged>(k, a + i * a_row, a_row, a_col, b, ldb, c + i * ldc, ldc, accumulate, last_mask);
  for (; i + 2 <= m; i += 2) tile<2, NV, Ragged>(k, a + i * a_row, a_row, a_col, b, ldb, c + i * ldc, ldc, accumulate, last_mask);
  for (; i < m; ++i) tile<1, NV, Ragged>(k, a + i * a_row, a_row, a_col, b, ldb, c + i * ldc, ldc, accumulate, last_mask);
}

}  // namespace

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  int64_t j = 0;
  for (; j + 64 <= n; j += 64) panel<4, false>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, accumulate, 0xffff);
  for (; j + 16 <= n; j += 16) panel<1, false>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, accumulate, 0xffff);
  if (j < n) panel<1, true>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, accumulate, tail_mask16(n - j));
}

}  // namespace dsinfer::cpu::avx512

#include "kernels/cpu/avx512_region_end.h"
