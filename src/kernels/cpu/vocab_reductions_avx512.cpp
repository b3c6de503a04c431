// AVX-512 bodies of vocab_reductions.h (target pragma).
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/vocab_reductions.h"

#include "kernels/cpu/avx512_region_begin.h"

#include "kernels/cpu/vector_exp_avx512.h"
#include "kernels/cpu/tail_masks_avx512.h"

namespace dsinfer::cpu::avx512 {
float vocab_max(const float* v, int64_t n, bool* nan) {
  __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0;
  __mmask16 bad = 0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {  // two chains: the max latency is not the limit
    const __m512 a = _mm512_loadu_ps(v + i), b = _mm512_loadu_ps(v + i + 16);
    bad |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
    m0 = _mm512_max_ps(m0, a);
    m1 = _mm512_max_ps(m1, b);
  }
  for (; i < n; i += 16) {
    const __mmask16 t = tail_mask16(n - i);
    const __m512 a = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), t, v + i);
    bad |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
    m0 = _mm512_max_ps(m0, a);
  }
  *nan = bad != 0;
  return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

int64_t first_equal(const float* v, int64_t n, float value) {
  const __m512 x = _mm512_set1_ps(value);
  int64_t found = n;
  int64_t i = 0;
  // Whole vectors with plain loads (see for_steps), the ragged end masked.
  for (; i + 16 <= n; i += 16)
    if (const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_loadu_ps(v + i), x, _CMP_EQ_OQ)) return i + __builtin_ctz(hit);
  if (i < n) {
    const __mmask16 t = tail_mask16(n - i);
    if (const __mmask16 hit = _mm512_mask_cmp_ps_mask(t, _mm512_maskz_loadu_ps(t, v + i), x, _CMP_EQ_OQ))
      found = i + __builtin_ctz(hit);
  }
  return found;
}

double exp_shifted(const float* v, int64_t n, float shift, float scale, float* out) {
  const __m512 s = _mm512_set1_ps(shift), k = _mm512_set1_ps(scale);
  double total = 0;
  for (int64_t run = 0; run < n; run += 1024) {  // float runs of 64 terms per lane, then double
    const int64_t end = run + 1024 < n ? run + 1024 : n;
    __m512 acc = _mm512_setzero_ps();
    for_steps<16>(end - run, [&]<bool Tail>(int64_t j) {
      const int64_t i = run + j;
      const __mmask16 t = tail_mask16(end - i);
      const __m512 e = exp16(_mm512_mul_ps(_mm512_sub_ps(load_ps<Tail>(t, v + i), s), k));
      const __m512 em = Tail ? _mm512_maskz_mov_ps(t, e) : e;
      if (out) {
        if constexpr (Tail) _mm512_mask_storeu_ps(out + i, t, em);
        else _mm512_storeu_ps(out + i, em);
      }
      acc = _mm512_add_ps(acc, em);
    });
    total += static_cast<double>(_mm512_reduce_add_ps(acc));
  }
  return total;
}

}  // namespace dsinfer::cpu::avx512

#include "kernels/cpu/avx512_region_end.h"
