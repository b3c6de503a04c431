// The sampler's whole-vocabulary passes against scalar double references.
#include "kernels/cpu/vocab_reductions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace dsinfer::cpu {
namespace {

std::vector<float> random_logits(int64_t n, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> d(0.f, 4.f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(g);
  return v;
}

TEST(VocabMax, LowestIndexAmongTiedMaximaAtEveryLength) {
  for (int64_t n : {1, 15, 16, 17, 129280}) {
    auto v = random_logits(n, static_cast<uint64_t>(n));
    const int64_t a = n / 3, b = n - 1;
    v[static_cast<size_t>(b)] = 100.f;  // a later copy of the maximum must not win
    v[static_cast<size_t>(a)] = 100.f;
    const VocabMax m = vocab_max(v.data(), n);
    EXPECT_EQ(m.max, 100.f);
    EXPECT_EQ(m.argmax, a) << "n=" << n;
    EXPECT_EQ(m.first_nan, -1);
  }
}

TEST(VocabMax, ReportsTheFirstNaN) {
  auto v = random_logits(1000, 7);
  v[613] = NAN;
  v[900] = NAN;
  EXPECT_EQ(vocab_max(v.data(), 1000).first_nan, 613);
}

TEST(VocabExp, MatchesDoubleExpAndSum) {
  const int64_t n = 129280;
  auto v = random_logits(n, 3);
  v[5] = -INFINITY;
  const float shift = vocab_max(v.data(), n).max;
  for (float scale : {1.f, 1.f / 0.6f}) {
    std::vector<float> out(static_cast<size_t>(n));
    const double sum = exp_shifted(v.data(), n, shift, scale, out.data());
    double ref_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      // The argument is rounded to float first, as the kernel does.
      const float arg = (v[static_cast<size_t>(i)] - shift) * scale;
      const double ref = std::exp(static_cast<double>(arg));
      ref_sum += ref;
      ASSERT_NEAR(out[static_cast<size_t>(i)], ref, 4e-7 * ref + 1e-37) << i;
    }
    EXPECT_NEAR(sum, ref_sum, 1e-6 * ref_sum);
    EXPECT_EQ(exp_shifted(v.data(), n, shift, scale, nullptr), sum);  // the sum alone
    EXPECT_EQ(out[5], 0.f);
  }
}

}  // namespace
}  // namespace dsinfer::cpu
