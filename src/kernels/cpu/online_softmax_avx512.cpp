// AVX-512 body of online_softmax_row (target pragma; no standard templates here).
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/online_softmax.h"

#include "kernels/cpu/avx512_region_begin.h"

#include "kernels/cpu/vector_exp_avx512.h"
#include "kernels/cpu/tail_masks_avx512.h"

namespace dsinfer::cpu::avx512 {

// Two passes over the row instead of five: the max of the scaled scores
// (the scaling redone, not stored), then exp(score * scale - max) stored and
// summed; the same two roundings per element (product, difference) as the
// generic form, partial sums by lane.
float online_softmax_row(float* row, int64_t len, int64_t visible, float scale, float& m, float& l) {
  const __m512 sv = _mm512_set1_ps(scale);
  __m512 mx = _mm512_set1_ps(m);
  for_steps<16>(len, [&]<bool Tail>(int64_t p) {
    const __mmask16 k = tail_mask16(len - p);
    const __m512 v = _mm512_mul_ps(load_ps<Tail>(k, row + p), sv);
    mx = Tail ? _mm512_mask_max_ps(mx, k, mx, v) : _mm512_max_ps(mx, v);
  });
  const float m_new = _mm512_reduce_max_ps(mx);
  const __m512 mv = _mm512_set1_ps(m_new);
  __m512 sum = _mm512_setzero_ps();
  for_steps<16>(len, [&]<bool Tail>(int64_t p) {
    const __mmask16 k = tail_mask16(len - p);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_mul_ps(load_ps<Tail>(k, row + p), sv), mv));
    if constexpr (Tail) {
      _mm512_mask_storeu_ps(row + p, k, e);
      sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(k, e));
    } else {
      _mm512_storeu_ps(row + p, e);
      sum = _mm512_add_ps(sum, e);
    }
  });
  for (int64_t p = len; p < visible; p += 16) {
    const __mmask16 k = tail_mask16(visible - p);
    _mm512_mask_storeu_ps(row + p, k, _mm512_setzero_ps());
  }
  const float correction = exp16(_mm512_set1_ps(m - m_new))[0];  // 0 when m = -inf
  l = l * correction + _mm512_reduce_add_ps(sum);
  m = m_new;
  return correction;
}

}  // namespace dsinfer::cpu::avx512

#include "kernels/cpu/avx512_region_end.h"
