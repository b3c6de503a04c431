// Float32 activations x bf16 weights at float32 accuracy on AMX
// (linear_f32_accuracy: x as three bf16 parts): the split reconstructs x to
// half a float32 ulp, and the linear matches a float64 loop to float32
// summation error, far below what one bf16 rounding of x would leave; a
// token's outputs do not depend on the tokens beside it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "io/numeric_formats.h"
#include "kernels/cpu/amx_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/row_kernel.h"
#include "support/float64_linear.h"
#include "support/random_data.h"

namespace dsinfer {
namespace {

using test::uniform_floats;

class Bf16x3 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu::cpu_features().amx_bf16) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AMX-BF16";
  }
};

TEST_F(Bf16x3, SplitReconstructsToHalfAFloat32Ulp) {
  // Magnitudes over many binades, lengths with a scalar tail.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::uniform_int_distribution<int> e(-60, 60);
  std::vector<float> x(1000 + 7);
  for (auto& v : x) v = std::ldexp(u(rng), e(rng));
  x[0] = 0.f, x[1] = -0.f, x[2] = 1.f, x[3] = 1.00390625f;  // bf16 tie at 1 + 2^-8
  std::vector<uint16_t> hi(x.size()), mid(x.size()), lo(x.size());
  cpu::amx::split_bf16x3(x.data(), static_cast<int64_t>(x.size()), hi.data(), mid.data(), lo.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const double sum = double(bf16_to_float(hi[i])) + bf16_to_float(mid[i]) + bf16_to_float(lo[i]);
    ASSERT_LE(std::fabs(sum - x[i]), std::ldexp(std::fabs(double(x[i])), -24)) << i << " x=" << x[i];
    ASSERT_EQ(hi[i], float_to_bf16(x[i])) << i << ": the high part is x rounded to bf16";
  }
}

TEST_F(Bf16x3, LinearMatchesFloat64AndTokensStayIndependent) {
  struct Case {
    int64_t tokens, rows, cols;
  };
  // 2 x 2 blocks (>= 32 rows, > 32 tokens), single token tiles, a ragged
  // last token tile, several token blocks (100 tokens at K = 4096).
  // 20 and 83 rows: a ragged last tile on the float32 dot form. Fewer than
  // 16 tokens (1, 2, 5, 15): narrow token tiles per part.
  for (const Case c : {Case{1, 16, 64}, Case{17, 48, 96}, Case{40, 64, 512}, Case{100, 32, 4096}, Case{67, 80, 256},
                       Case{5, 20, 64}, Case{40, 83, 128}, Case{15, 32, 128}, Case{2, 83, 4096}}) {
    const auto wf = uniform_floats(static_cast<size_t>(c.rows * c.cols), 7);
    const std::vector<uint16_t> wb = test::bf16_bits(wf);
    const auto x = uniform_floats(static_cast<size_t>(c.tokens * c.cols), 11, -3.f, 3.f);
    LinearWeight w;
    w.format = WeightFormat::BF16;
    w.rows = c.rows, w.cols = c.cols, w.data = wb.data(), w.bf16_inputs = true;  // ignored: float32 accuracy
    ASSERT_NE(cpu::prepare_bf16x3_kernel(w, 0, w.rows, x.data(), c.tokens, nullptr, w.rows), nullptr);
    std::vector<float> y(static_cast<size_t>(c.tokens * c.rows));
    cpu::linear_f32_accuracy(w, x.data(), c.tokens, y.data());
    ASSERT_LE(test::worst_relative_error(wb, x.data(), y.data(), c.tokens, c.rows, c.cols),
              test::float32_sum_bound(c.cols))
        << "tokens " << c.tokens << " rows " << c.rows << " cols " << c.cols;
    // The last token alone gives the same bits as among the others.
    const int64_t last = c.tokens - 1;
    std::vector<float> alone(static_cast<size_t>(c.rows));
    cpu::linear_f32_accuracy(w, x.data() + last * c.cols, 1, alone.data());
    ASSERT_EQ(0, std::memcmp(alone.data(), y.data() + last * c.rows, alone.size() * 4)) << "tokens " << c.tokens;
  }
}

TEST_F(Bf16x3, EveryPartReachesTheSum) {
  // x = 1 + 2^-9 + 2^-18: parts 1, 2^-9 and 2^-18; with unit weights every
  // partial sum of 32 columns is exact in float32, so y == 32 x exactly,
  // and a part left out (or added twice) shows.
  const float v = 1.f + std::ldexp(1.f, -9) + std::ldexp(1.f, -18);
  std::vector<uint16_t> wb(16 * 32, float_to_bf16(1.f));
  LinearWeight w;
  w.format = WeightFormat::BF16;
  w.rows = 16, w.cols = 32, w.data = wb.data();
  const std::vector<float> x(3 * 32, v);
  std::vector<float> y(3 * 16);
  cpu::linear_f32_accuracy(w, x.data(), 3, y.data());
  for (float got : y) ASSERT_EQ(got, 32.f * v);
}

TEST_F(Bf16x3, TakesNoWidthItCannotTile) {
  std::vector<uint16_t> wb(16 * 48);
  LinearWeight w;
  w.format = WeightFormat::BF16;
  w.rows = 16, w.cols = 48, w.data = wb.data();  // 48 columns: not a multiple of 32
  const std::vector<float> x(48);
  EXPECT_EQ(cpu::prepare_bf16x3_kernel(w, 0, 16, x.data(), 1, nullptr, 16), nullptr);
}

}  // namespace
}  // namespace dsinfer
