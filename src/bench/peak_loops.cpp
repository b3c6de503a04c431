// Portable ceilings for CPUs without AVX-512: the compiler vectorizes these
// with whatever the build targets (AVX2 with -march=native), which is also
// what the portable kernels run with.
#include <cstring>

#include "bench/peak_loops.h"
#include "kernels/cpu/multiversion.h"

namespace dsinfer::bench {

uint64_t stream_read_portable(const uint8_t* p, size_t n) {
  uint64_t sum[8] = {};
  for (size_t i = 0; i + 64 <= n; i += 64) {
    uint64_t v[8];
    std::memcpy(v, p + i, 64);
#pragma omp simd
    for (int k = 0; k < 8; ++k) sum[k] += v[k];
  }
  uint64_t total = 0;
  for (uint64_t s : sum) total += s;
  return total;
}

// Cloned per x86-64 level as the generic kernels are: on an AVX2 CPU the
// chains run as 8-lane FMAs (the AVX2 tiles' unit), not as SSE2 mul + add
// (which read a quarter of the peak and put the FP8 / bf16 phases above 100 %).
DSINFER_MULTIVERSION float fma_loop_portable(int64_t iters) {
  // 12 independent chains of 8 lanes: 96 fused multiply-adds per iteration.
  float acc[12][8];
  for (int k = 0; k < 12; ++k)
    for (int j = 0; j < 8; ++j) acc[k][j] = 0.001f * static_cast<float>(k * 8 + j);
  const float a = 0.999999f, b = 1e-7f;
  for (int64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 12; ++k)
#pragma omp simd
      for (int j = 0; j < 8; ++j) acc[k][j] = acc[k][j] * a + b;
  float s = 0.f;
  for (int k = 0; k < 12; ++k)
    for (int j = 0; j < 8; ++j) s += acc[k][j];
  return s;
}

}  // namespace dsinfer::bench
