#pragma once
// exp of 16 floats (relative error < 2e-7; exp(x) = 0 below -87.3, which
// covers -inf; NaN stays NaN). Include only inside an AVX-512 target region.
#include <immintrin.h>

namespace dsinfer::cpu::avx512 {

inline __m512 exp16(__m512 v) {
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2_hi = _mm512_set1_ps(0.693145751953125f), ln2_lo = _mm512_set1_ps(1.428606765330187e-06f);
  const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.3f);
  const __mmask16 under = _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ);
  v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));  // v second: a NaN passes through (min/max return it)
  const __m512 nf = _mm512_roundscale_ps(_mm512_mul_ps(v, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(nf, ln2_hi, v);
  r = _mm512_fnmadd_ps(nf, ln2_lo, r);
  // Taylor series of exp on [-ln2/2, ln2/2] to degree 7, Horner.
  __m512 p = _mm512_set1_ps(1.f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  const __m512 res = _mm512_scalef_ps(p, nf);
  return _mm512_mask_mov_ps(res, under, _mm512_setzero_ps());
}

}  // namespace dsinfer::cpu::avx512
