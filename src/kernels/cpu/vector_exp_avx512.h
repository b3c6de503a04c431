#pragma once
// exp of 16 floats (relative error < 2e-7; exp(x) = 0 below -87.3, which
// covers -inf; NaN stays NaN). Include only inside an AVX-512 target region.
#include <immintrin.h>

#include "kernels/cpu/vector_exp_constants.h"

namespace dsinfer::cpu::avx512 {

inline __m512 exp16(__m512 v) {
  namespace c = vector_exp;
  const __m512 lo = _mm512_set1_ps(c::kLo), hi = _mm512_set1_ps(c::kHi);
  const __mmask16 under = _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ);
  v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));  // v second: a NaN passes through (min/max return it)
  const __m512 nf =
      _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(c::kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(c::kLn2Hi), v);
  r = _mm512_fnmadd_ps(nf, _mm512_set1_ps(c::kLn2Lo), r);
  __m512 p = _mm512_set1_ps(c::kTaylor[0]);
#pragma GCC unroll 8
  for (int i = 1; i < 8; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c::kTaylor[i]));
  const __m512 res = _mm512_scalef_ps(p, nf);
  return _mm512_mask_mov_ps(res, under, _mm512_setzero_ps());
}

}  // namespace dsinfer::cpu::avx512
