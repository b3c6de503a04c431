// AVX2 + FMA bodies of head_gemm.h for CPUs without AVX-512 (target
// pragma after every standard header; no standard templates below it).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/head_gemm.h"
#include "kernels/cpu/vector_exp_constants.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

#include "kernels/cpu/f32_tile_avx2.h"

namespace dsinfer::cpu::avx2 {
namespace {

// exp of 8 floats as the AVX-512 exp16 (the method and its constants:
// vector_exp_constants.h); 2^n built in the exponent field (n in [-126,
// 127] after the clamp); 0 below -87.3, which covers -inf; NaN stays NaN.
inline __m256 exp8(__m256 v) {
  namespace c = vector_exp;
  const __m256 lo = _mm256_set1_ps(c::kLo), hi = _mm256_set1_ps(c::kHi);
  const __m256 under = _mm256_cmp_ps(v, lo, _CMP_LT_OQ);
  v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));  // v second: a NaN passes through (min/max return it)
  const __m256 nf = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(c::kLog2e)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(c::kLn2Hi), v);
  r = _mm256_fnmadd_ps(nf, _mm256_set1_ps(c::kLn2Lo), r);
  __m256 p = _mm256_set1_ps(c::kTaylor[0]);
#pragma GCC unroll 8
  for (int i = 1; i < 8; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c::kTaylor[i]));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(nf), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(under, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

}  // namespace

void head_gemm(int64_t m, int64_t k, const float* a, int64_t a_row, int64_t a_col, const float* b, int64_t hp,
               float* out, const float* alpha, bool accumulate) {
  // Column panels of 16 heads (hp is a multiple of 16).
  for (int64_t h0 = 0; h0 < hp; h0 += 16)
    f32_panel<2>(m, k, a, a_row, a_col, b + h0, hp, out + h0, hp, alpha ? alpha + h0 : nullptr, accumulate);
}

void exp_inplace(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, exp8(_mm256_loadu_ps(x + i)));
  if (i < n) {  // the ragged end through a zero-padded vector
    alignas(32) float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t j = i; j < n; ++j) t[j - i] = x[j];
    _mm256_store_ps(t, exp8(_mm256_load_ps(t)));
    for (int64_t j = i; j < n; ++j) x[j] = t[j - i];
  }
}

}  // namespace dsinfer::cpu::avx2

#pragma GCC pop_options
