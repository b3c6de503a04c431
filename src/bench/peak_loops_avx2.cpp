// The AVX2 int8 peak (CPUs without VNNI): the instruction mix of the AVX2
// int8 tiles (linear_avx2.cpp) at full issue rate, compiled for AVX2
// through a target pragma placed after every standard header.
#include <immintrin.h>

#include <cstdint>

#include "bench/peak_loops.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace dsinfer::bench {

float int8_madd_loop_avx2(int64_t iters) {
  // 12 independent chains of vpsignb + vpmaddubsw + vpmaddwd + vpaddd
  // (32 int8 multiply-adds each), as the tiles issue them per (row, token).
  __m256i acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_epi32(k);
  const __m256i aw = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
  __m256i x = _mm256_set1_epi8(-5);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int k = 0; k < 12; ++k)
      acc[k] = _mm256_add_epi32(acc[k], _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(x, acc[k])), ones));
    x = _mm256_xor_si256(x, acc[0]);  // keeps the operands from being hoisted
  }
  __m256i s = acc[0];
  for (int k = 1; k < 12; ++k) s = _mm256_add_epi32(s, acc[k]);
  return static_cast<float>(_mm256_extract_epi32(s, 0));
}

}  // namespace dsinfer::bench

#pragma GCC pop_options
