#include "kernels/cpu/online_softmax.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/head_gemm.h"
#include "kernels/cpu/multiversion.h"

namespace dsinfer::cpu {

DSINFER_MULTIVERSION void online_softmax_block(float* sc, int64_t n, int64_t hp, float scale, bool first, float* m, float* l,
                          float* alpha, float* block_max) {
  for (int64_t h = 0; h < hp; ++h) block_max[h] = m[h];
  for (int64_t i = 0; i < n; ++i) {
    float* row = sc + i * hp;
#pragma omp simd
    for (int64_t h = 0; h < hp; ++h) {
      row[h] *= scale;
      block_max[h] = std::max(block_max[h], row[h]);
    }
  }
  for (int64_t h = 0; h < hp; ++h) {
    alpha[h] = first ? 0.f : std::exp(m[h] - block_max[h]);
    m[h] = block_max[h];
  }
  for (int64_t i = 0; i < n; ++i) {
    float* row = sc + i * hp;
#pragma omp simd
    for (int64_t h = 0; h < hp; ++h) row[h] -= block_max[h];
  }
  exp_inplace(sc, n * hp);
  for (int64_t h = 0; h < hp; ++h) l[h] *= alpha[h];
  for (int64_t i = 0; i < n; ++i) {
    const float* row = sc + i * hp;
#pragma omp simd
    for (int64_t h = 0; h < hp; ++h) l[h] += row[h];
  }
}

namespace {
DSINFER_MULTIVERSION float online_softmax_row_generic(float* row, int64_t len, int64_t visible, float scale, float& m,
                                                      float& l) {
  float m_new = m;
#pragma omp simd reduction(max : m_new)
  for (int64_t p = 0; p < len; ++p) {
    row[p] *= scale;
    m_new = std::max(m_new, row[p]);
  }
#pragma omp simd
  for (int64_t p = 0; p < len; ++p) row[p] -= m_new;
  exp_inplace(row, len);
  std::fill(row + len, row + visible, 0.f);
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t p = 0; p < len; ++p) sum += row[p];
  const float correction = std::exp(m - m_new);
  l = l * correction + sum;
  m = m_new;
  return correction;
}
}  // namespace

float online_softmax_row(float* row, int64_t len, int64_t visible, float scale, float& m, float& l) {
  if (cpu_features().avx512) return avx512::online_softmax_row(row, len, visible, scale, m, l);
  return online_softmax_row_generic(row, len, visible, scale, m, l);
}

}  // namespace dsinfer::cpu
