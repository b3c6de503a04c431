#include "kernels/cpu/head_gemm.h"

#include <cmath>

#include "kernels/cpu/cpu_features.h"

namespace dsinfer::cpu {

void head_gemm(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp,
               float* out, const float* alpha, bool accumulate) {
  if (cpu_features().avx512) {
    avx512::head_gemm(m, k, a, a_row, a_col, b, hp, out, alpha, accumulate);
    return;
  }
  if (cpu_features().avx2) {
    avx2::head_gemm(m, k, a, a_row, a_col, b, hp, out, alpha, accumulate);
    return;
  }
  for (int64_t i = 0; i < m; ++i) {
    float* o = out + i * hp;
    for (int64_t h = 0; h < hp; ++h) o[h] = accumulate ? (alpha ? o[h] * alpha[h] : o[h]) : 0.f;
    for (int64_t j = 0; j < k; ++j) {
      const float av = a[i * a_row + j * a_col];
      const float* bj = b + j * hp;
#pragma omp simd
      for (int64_t h = 0; h < hp; ++h) o[h] += av * bj[h];
    }
  }
}

void exp_inplace(float* x, int64_t n) {
  if (cpu_features().avx512) {
    avx512::exp_inplace(x, n);
    return;
  }
  if (cpu_features().avx2) {
    avx2::exp_inplace(x, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) x[i] = std::exp(x[i]);
}

}  // namespace dsinfer::cpu
