// AVX-512 bodies of peak_loops.h (target pragma; callers check cpu_features()).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "bench/peak_loops.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512bf16")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace dsinfer::bench {

uint64_t stream_read(const uint8_t* p, size_t n) {
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 256 <= n; i += 256) {
    a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
    a1 = _mm512_add_epi64(a1, _mm512_load_si512(p + i + 64));
    a2 = _mm512_add_epi64(a2, _mm512_load_si512(p + i + 128));
    a3 = _mm512_add_epi64(a3, _mm512_load_si512(p + i + 192));
  }
  for (; i < n; i += 64) a0 = _mm512_add_epi64(a0, _mm512_load_si512(p + i));
  return static_cast<uint64_t>(
      _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3))));
}

namespace {
// S equal parts of [p, p + n) read side by side, 128 bytes of each per step:
// S sequential streams, as a GEMV tile over S weight rows reads them.
template <int S>
uint64_t streams_read(const uint8_t* p, size_t n) {
  const size_t part = n / S / 128 * 128;
  __m512i a[S], b[S];
  for (int s = 0; s < S; ++s) a[s] = b[s] = _mm512_setzero_si512();
  for (size_t i = 0; i < part; i += 128) {
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      a[s] = _mm512_add_epi64(a[s], _mm512_load_si512(p + s * part + i));
      b[s] = _mm512_add_epi64(b[s], _mm512_load_si512(p + s * part + i + 64));
    }
  }
  __m512i t = _mm512_setzero_si512();
  for (int s = 0; s < S; ++s) t = _mm512_add_epi64(t, _mm512_add_epi64(a[s], b[s]));
  uint64_t sum = static_cast<uint64_t>(_mm512_reduce_add_epi64(t));
  for (size_t i = S * part; i + 64 <= n; i += 64) sum += static_cast<uint64_t>(_mm512_reduce_add_epi64(_mm512_load_si512(p + i)));
  return sum;
}
}  // namespace

uint64_t stream_read_multi(const uint8_t* p, size_t n, int streams) {
  switch (streams) {
    case 2: return streams_read<2>(p, n);
    case 4: return streams_read<4>(p, n);
    case 8: return streams_read<8>(p, n);
    default: return stream_read(p, n);
  }
}

// 12 independent accumulators in named registers hide the instruction
// latency (4-5 cycles x 2 pipes) on current cores; the chains cannot be folded
// by the compiler, so the loop issues exactly 12 instructions per iteration.
// Distinct start values keep the compiler from merging identical chains.
#define DSINFER_PEAK_BODY(INIT, OP, ADD)                                             \
  auto a0 = INIT(0), a1 = INIT(1), a2 = INIT(2), a3 = INIT(3), a4 = INIT(4), a5 = INIT(5), \
       a6 = INIT(6), a7 = INIT(7), a8 = INIT(8), a9 = INIT(9), a10 = INIT(10), a11 = INIT(11); \
  for (int64_t it = 0; it < iters; ++it) {                                          \
    a0 = OP(a0); a1 = OP(a1); a2 = OP(a2); a3 = OP(a3); a4 = OP(a4); a5 = OP(a5);    \
    a6 = OP(a6); a7 = OP(a7); a8 = OP(a8); a9 = OP(a9); a10 = OP(a10); a11 = OP(a11); \
  }                                                                                 \
  return ADD(ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7))),     \
             ADD(ADD(a8, a9), ADD(a10, a11)));

namespace {
__m512i vnni_impl(int64_t iters, __m512i a, __m512i b) {
#define OP(acc) _mm512_dpbusd_epi32(acc, a, b)
  DSINFER_PEAK_BODY(_mm512_set1_epi32, OP, _mm512_add_epi32)
#undef OP
}
__m512 bf16_impl(int64_t iters, __m512bh a, __m512bh b) {
#define OP(acc) _mm512_dpbf16_ps(acc, a, b)
  DSINFER_PEAK_BODY(_mm512_set1_ps, OP, _mm512_add_ps)
#undef OP
}
__m512 fma_impl(int64_t iters, __m512 a, __m512 b) {
#define OP(acc) _mm512_fmadd_ps(a, b, acc)
  DSINFER_PEAK_BODY(_mm512_set1_ps, OP, _mm512_add_ps)
#undef OP
}
}  // namespace

#undef DSINFER_PEAK_BODY

float vnni_loop(int64_t iters) {
  return static_cast<float>(_mm512_reduce_add_epi32(vnni_impl(iters, _mm512_set1_epi8(3), _mm512_set1_epi8(-2))));
}
float bf16_dot_loop(int64_t iters) {
  return _mm512_reduce_add_ps(
      bf16_impl(iters, (__m512bh)_mm512_set1_epi16(0x3f80), (__m512bh)_mm512_set1_epi16(0x3a83)));
}
float fma_loop(int64_t iters) {
  return _mm512_reduce_add_ps(fma_impl(iters, _mm512_set1_ps(0.999f), _mm512_set1_ps(1e-6f)));
}

}  // namespace dsinfer::bench

#pragma GCC diagnostic pop
#pragma GCC pop_options
