// The float32 attention GEMM against a float64 triple loop, on ragged shapes,
// strided/transposed A and accumulation; the AVX-512 and AVX2 bodies and the
// portable fallback are checked where the CPU allows.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_f32.h"

namespace dsinfer {
namespace {

using GemmFn = void (*)(int64_t, int64_t, int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*,
                        int64_t, bool);

void check(GemmFn fn, int64_t m, int64_t n, int64_t k, bool transposed_a, bool accumulate) {
  std::mt19937 rng(static_cast<unsigned>(m * 1000 + n * 10 + k));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t lda = transposed_a ? m + 3 : k + 5, ldb = n + 7, ldc = n + 2;
  std::vector<float> a(static_cast<size_t>((transposed_a ? k : m) * lda)), b(static_cast<size_t>(k * ldb));
  std::vector<float> c(static_cast<size_t>(m * ldc));
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  for (auto& x : c) x = u(rng);
  const std::vector<float> c0 = c;
  const int64_t a_row = transposed_a ? 1 : lda, a_col = transposed_a ? lda : 1;
  fn(m, n, k, a.data(), a_row, a_col, b.data(), ldb, c.data(), ldc, accumulate);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "wrote outside the tile";
        continue;
      }
      double ref = accumulate ? c0[i * ldc + j] : 0.0;
      for (int64_t kk = 0; kk < k; ++kk) ref += static_cast<double>(a[i * a_row + kk * a_col]) * b[kk * ldb + j];
      ASSERT_NEAR(c[i * ldc + j], ref, 1e-4 * (1 + std::sqrt(static_cast<double>(k)))) << i << "," << j;
    }
}

void check_all(GemmFn fn) {
  for (int64_t m : {1, 3, 4, 9})
    for (int64_t n : {1, 8, 15, 16, 17, 24, 64, 100})
      for (int64_t k : {1, 7, 192})
        for (bool t : {false, true})
          for (bool acc : {false, true}) check(fn, m, n, k, t, acc);
}

TEST(GemmF32, DispatchedMatchesFloat64Reference) { check_all(&cpu::gemm_f32); }

TEST(GemmF32, Avx512BodyMatchesFloat64Reference) {
  if (!cpu::cpu_features().avx512) GTEST_SKIP() << "no AVX-512 on this CPU";
  check_all(&cpu::avx512::gemm_f32);
}

TEST(GemmF32, Avx2BodyMatchesFloat64Reference) {
  if (!cpu::cpu_features().avx2) GTEST_SKIP() << "no AVX2 + FMA on this CPU";
  check_all(&cpu::avx2::gemm_f32);
}

}  // namespace
}  // namespace dsinfer
