#pragma once
// Masks of the first n lanes (all of them from the vector width on), and
// loops that take the masked loads only at the ragged end, for the AVX-512
// loops. Include only inside an AVX-512
// target region (avx512_region_begin.h or the file's own target pragma).
#include <immintrin.h>

#include <cstdint>

namespace dsinfer::cpu::avx512 {
namespace {

inline __mmask64 tail_mask64(int64_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }
inline __mmask32 tail_mask32(int64_t n) { return n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1; }
inline __mmask16 tail_mask16(int64_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }

// step.template operator()<Tail>(k) for k = k0, k0 + W, ... < k1 (k0 a
// multiple of W): the whole steps with plain loads, then the ragged one
// (Tail) with masked loads. The split matters: on Zen 5 a GEMV loop whose
// every load is masked streams at half the bandwidth of the same loop with
// plain loads. The one-bound form runs over [0, n).
template <int64_t W, class Step>
inline void for_steps(int64_t k0, int64_t k1, Step&& step) {
  int64_t k = k0;
  for (; k + W <= k1; k += W) step.template operator()<false>(k);
  if (k < k1) step.template operator()<true>(k);
}
template <int64_t W, class Step>
inline void for_steps(int64_t n, Step&& step) {
  for_steps<W>(0, n, static_cast<Step&&>(step));
}
template <bool Tail>
inline __m512i load_epi8(__mmask64 m, const void* p) {
  return Tail ? _mm512_maskz_loadu_epi8(m, p) : _mm512_loadu_si512(p);
}
template <bool Tail>
inline __m512i load_epi16(__mmask32 m, const void* p) {
  return Tail ? _mm512_maskz_loadu_epi16(m, p) : _mm512_loadu_si512(p);
}
template <bool Tail>
inline __m512 load_ps(__mmask16 m, const float* p) {
  return Tail ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p);
}

}  // namespace
}  // namespace dsinfer::cpu::avx512
