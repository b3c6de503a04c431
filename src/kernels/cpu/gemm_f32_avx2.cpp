// AVX2 + FMA body of gemm_f32 for CPUs without AVX-512 (target pragma after
// every standard header; called only when the CPU has the ISA).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/gemm_f32.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "kernels/cpu/f32_tile_avx2.h"

namespace dsinfer::cpu::avx2 {

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  // Column panels of 16, then 8 (the B panel, k x 16 floats, stays in L1/L2
  // while the row groups of A stream past it), the last n % 8 columns as
  // the same in-order FMA chains one by one.
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) f32_panel<2>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, nullptr, accumulate);
  for (; j + 8 <= n; j += 8) f32_panel<1>(m, k, a, a_row, a_col, b + j, ldb, c + j, ldc, nullptr, accumulate);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t jj = j; jj < n; ++jj) {
      float s = accumulate ? c[i * ldc + jj] : 0.f;
      for (int64_t kk = 0; kk < k; ++kk) s = __builtin_fmaf(a[i * a_row + kk * a_col], b[kk * ldb + jj], s);
      c[i * ldc + jj] = s;
    }
}

}  // namespace dsinfer::cpu::avx2

#pragma GCC pop_options
