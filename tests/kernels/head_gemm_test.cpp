// The decode attention's head GEMM (heads as the vector dimension) against
// the FMA chain it promises: every output is out*alpha (or 0), then one
// fused multiply-add per k in order, so the tiling (6 / 2 / 1 rows, panels
// of 64 heads; AVX2: of 16) never changes a bit. Ragged rows, 16-144 heads, strided and
// transposed A, the online-softmax rescale.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/head_gemm.h"

namespace dsinfer {
namespace {

void check(int64_t m, int64_t k, int64_t hp, bool transposed_a, bool accumulate, bool with_alpha) {
  std::mt19937 rng(static_cast<unsigned>(m * 7919 + k * 31 + hp));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const int64_t lda = transposed_a ? m + 3 : k + 5;
  std::vector<float> a(static_cast<size_t>((transposed_a ? k : m) * lda)), b(static_cast<size_t>(k * hp)),
      out(static_cast<size_t>(m * hp)), alpha(static_cast<size_t>(hp));
  for (auto& x : a) x = u(rng);
  for (auto& x : b) x = u(rng);
  for (auto& x : out) x = u(rng);
  for (auto& x : alpha) x = 0.5f + 0.5f * u(rng);
  const std::vector<float> out0 = out;
  const int64_t a_row = transposed_a ? 1 : lda, a_col = transposed_a ? lda : 1;
  cpu::head_gemm(m, k, a.data(), a_row, a_col, b.data(), hp, out.data(), with_alpha ? alpha.data() : nullptr,
                 accumulate);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t h = 0; h < hp; ++h) {
      float ref = accumulate ? out0[i * hp + h] * (with_alpha ? alpha[h] : 1.f) : 0.f;
      for (int64_t j = 0; j < k; ++j) ref = std::fma(a[i * a_row + j * a_col], b[j * hp + h], ref);
      ASSERT_EQ(out[i * hp + h], ref) << "m" << m << " k" << k << " hp" << hp << " at " << i << "," << h;
    }
}

TEST(HeadGemm, EveryOutputIsTheInOrderFmaChain) {
  const cpu::CpuFeatures& isa = cpu::cpu_features();
  if (!isa.avx512 && !isa.avx2) GTEST_SKIP() << "the portable loop promises no FMA order";
  for (int64_t m : {1, 2, 5, 6, 7, 13, 64})
    for (int64_t k : {1, 9, 64})
      for (int64_t hp : {16, 48, 64, 128, 144})
        for (bool t : {false, true}) {
          check(m, k, hp, t, false, false);
          check(m, k, hp, t, true, false);
          check(m, k, hp, t, true, true);
        }
}

// The softmax exp (vector bodies where present): relative error < 2e-7
// against float64 over the range softmax feeds it (x <= 0 after the max
// shift, down to -inf), 0 below -87.3, NaN kept, and a ragged end.
TEST(HeadGemm, ExpIsWithinTwoUlpOfFloat64) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-87.f, 10.f);
  std::vector<float> x(1003);
  for (auto& v : x) v = u(rng);
  x[0] = 0.f;
  x[1] = -INFINITY;
  x[2] = -100.f;
  x[3] = -87.2f;
  x[4] = 88.f;
  x[5] = NAN;  // a NaN score (NaN weights) stays NaN, as std::exp keeps it
  x[1001] = NAN;  // and in the ragged end
  x[1002] = -1e-3f;
  std::vector<float> y = x;
  cpu::exp_inplace(y.data(), static_cast<int64_t>(y.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      EXPECT_TRUE(std::isnan(y[i])) << "exp(NaN) = " << y[i] << " at " << i;
      continue;
    }
    const double ref = std::exp(static_cast<double>(x[i]));
    if (x[i] < -87.3f) {
      EXPECT_LE(y[i], 1e-37f) << x[i];
      continue;
    }
    EXPECT_LE(std::fabs(y[i] - ref), 2e-7 * ref) << "exp(" << x[i] << ") = " << y[i] << ", float64 " << ref;
  }
}

}  // namespace
}  // namespace dsinfer
