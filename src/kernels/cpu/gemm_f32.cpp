#include "kernels/cpu/gemm_f32.h"

#include "kernels/cpu/cpu_features.h"

namespace dsinfer::cpu {

void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (cpu_features().avx512) {
    avx512::gemm_f32(m, n, k, a, a_row, a_col, b, ldb, c, ldc, accumulate);
    return;
  }
  if (cpu_features().avx2) {
    avx2::gemm_f32(m, n, k, a, a_row, a_col, b, ldb, c, ldc, accumulate);
    return;
  }
  for (int64_t i = 0; i < m; ++i) {
    float* ci = c + i * ldc;
    if (!accumulate)
      for (int64_t j = 0; j < n; ++j) ci[j] = 0.f;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float av = a[i * a_row + kk * a_col];
      const float* bk = b + kk * ldb;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) ci[j] += av * bk[j];
    }
  }
}

}  // namespace dsinfer::cpu
