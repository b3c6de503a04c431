// The prefill softmax row step (online_softmax_row; AVX-512 or generic by
// dispatch, the scalar-dispatch ctest run covers the latter) against float64:
// a row seen as two chunks of keys gives the running max, the denominator
// and, with the first chunk's probabilities rescaled by the returned
// correction, the probabilities of one softmax over the whole row.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/online_softmax.h"

namespace dsinfer {
namespace {

TEST(OnlineSoftmaxRow, TwoChunksMatchOneFloat64Softmax) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.f, 4.f);
  const float scale = 0.7f;
  for (const int64_t n0 : {1, 5, 16, 37, 64}) {
    for (const int64_t n1 : {1, 17, 33}) {
      std::vector<float> a(static_cast<size_t>(n0 + 9)), b(static_cast<size_t>(n1 + 3));
      for (auto& v : a) v = nd(rng);
      for (auto& v : b) v = nd(rng) + 6.f;  // the second chunk usually raises the max
      const std::vector<float> sa(a.begin(), a.begin() + n0), sb(b.begin(), b.begin() + n1);
      float m = -INFINITY, l = 0.f;
      const float c0 = cpu::online_softmax_row(a.data(), n0, n0 + 9, scale, m, l);
      EXPECT_EQ(c0, 0.f) << "nothing accumulated before the first chunk";
      for (int64_t p = n0; p < n0 + 9; ++p) ASSERT_EQ(a[static_cast<size_t>(p)], 0.f) << "past len: zero";
      const float c1 = cpu::online_softmax_row(b.data(), n1, n1, scale, m, l);
      double mx = -INFINITY, den = 0;
      for (float v : sa) mx = std::max(mx, double(v) * scale);
      for (float v : sb) mx = std::max(mx, double(v) * scale);
      for (float v : sa) den += std::exp(double(v) * scale - mx);
      for (float v : sb) den += std::exp(double(v) * scale - mx);
      ASSERT_NEAR(m, mx, 1e-5 * std::fabs(mx) + 1e-6);
      ASSERT_NEAR(l, den, 2e-6 * den) << n0 << "," << n1;
      for (int64_t p = 0; p < n0; ++p)
        ASSERT_NEAR(a[static_cast<size_t>(p)] * c1, std::exp(double(sa[static_cast<size_t>(p)]) * scale - mx), 2e-6);
      for (int64_t p = 0; p < n1; ++p)
        ASSERT_NEAR(b[static_cast<size_t>(p)], std::exp(double(sb[static_cast<size_t>(p)]) * scale - mx), 2e-6);
    }
  }
}

}  // namespace
}  // namespace dsinfer
