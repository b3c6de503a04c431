#include "kernels/cpu/online_softmax.h"

#include <algorithm>
#include <cmath>

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

}  // namespace dsinfer::cpu
