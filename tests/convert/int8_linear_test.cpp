// The W8A8 run-time kernels, exactly: int8 x int8 products accumulated in
// int32 against a plain integer loop, and per-token activation quantization
// against a scalar reference (scale = max|x| / 127, round half to even).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cpu/int8_linear.h"

namespace dsinfer {
namespace {

std::vector<int8_t> random_int8(size_t n, std::mt19937& gen, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(gen));
  return v;
}

// Round half to even written out, independent of the FPU rounding mode.
float round_half_even(float x) {
  const float f = std::floor(x);
  const float frac = x - f;
  if (frac > 0.5f) return f + 1.f;
  if (frac < 0.5f) return f;
  return std::fmod(f, 2.f) == 0.f ? f : f + 1.f;
}

// gemm_int8_int32 over rows [rows / 3, rows) equals the int64 sums exactly.
void expect_integer_sums(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int64_t tokens, int64_t rows,
                         int64_t cols) {
  const int64_t row_begin = rows / 3, n_rows = rows - rows / 3;
  std::vector<int32_t> acc(static_cast<size_t>(tokens * n_rows), -1);
  cpu::gemm_int8_int32(x.data(), tokens, w.data(), row_begin, n_rows, cols, acc.data(), n_rows);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t r = 0; r < n_rows; ++r) {
      int64_t ref = 0;
      for (int64_t c = 0; c < cols; ++c) ref += int64_t{x[t * cols + c]} * int64_t{w[(row_begin + r) * cols + c]};
      ASSERT_EQ(acc[t * n_rows + r], ref) << "tokens " << tokens << " t " << t << " r " << r << " cols " << cols;
    }
}

TEST(Int8Gemm, MatchesIntegerReferenceBitForBit) {
  std::mt19937 gen(7);
  // Odd sizes exercise vector tails; 4099 columns of +-127/-128 reach
  // |acc| ~ 6.7e7, far beyond float's exact-integer range.
  // 72+ tokens take the packed-panel prefill kernel (K not a multiple of 4,
  // row counts not a multiple of its 32-row panels, a non-zero row_begin).
  for (auto [tokens, rows, cols] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {1, 83, 517}, {1, 64, 2048}, {1, 100, 8197}, {2, 19, 300}, {3, 17, 33}, {5, 64, 4099},
                                    {37, 129, 257}, {72, 45, 3}, {97, 70, 130}, {161, 33, 2050}, {80, 40, 4099}}) {
    const auto x = random_int8(static_cast<size_t>(tokens * cols), gen);
    const auto w = random_int8(static_cast<size_t>(rows * cols), gen);
    expect_integer_sums(x, w, tokens, rows, cols);
  }
}

// Activations as quantization makes them ([-127, 127]) against every weight
// value: the range the AVX2 tiles take (sign-carrying byte products), at
// every token-tile width and with column tails; -128 weights and +-127
// activations at the extremes of the 16-bit pair sums.
TEST(Int8Gemm, QuantizedActivationsMatchIntegerReferenceBitForBit) {
  std::mt19937 gen(11);
  for (auto [tokens, rows, cols] : {std::tuple<int64_t, int64_t, int64_t>{1, 9, 4128}, {1, 70, 33}, {2, 13, 1000},
                                    {3, 21, 96}, {4, 9, 257}, {7, 30, 7168}, {13, 11, 130}, {40, 37, 2050}}) {
    for (int extreme = 0; extreme < 2; ++extreme) {
      auto x = random_int8(static_cast<size_t>(tokens * cols), gen, -127, 127);
      auto w = random_int8(static_cast<size_t>(rows * cols), gen);
      if (extreme) {
        for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 3) ? -127 : 127;
        for (auto& v : w) v = -128;
      }
      SCOPED_TRACE(extreme ? "extremes" : "random");
      expect_integer_sums(x, w, tokens, rows, cols);
    }
  }
}

TEST(Int8Gemm, ExtremeValuesDoNotOverflowInt32) {
  const int64_t cols = 8191;  // 8191 * 128 * 128 = 134 M < 2^31
  std::vector<int8_t> x(cols, -128), w(cols, -128);
  int32_t acc = 0;
  cpu::gemm_int8_int32(x.data(), 1, w.data(), 0, 1, cols, &acc, 1);
  EXPECT_EQ(acc, int64_t{8191} * 128 * 128);
}

void reference_quantize(const float* x, int64_t cols, int8_t* q, float* scale) {
  float amax = 0.f;
  for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(x[c]));
  *scale = amax / 127.0f;
  for (int64_t c = 0; c < cols; ++c) {
    const float v = *scale == 0.f ? 0.f : round_half_even(x[c] / *scale);
    q[c] = static_cast<int8_t>(std::max(-127.f, std::min(127.f, v)));
  }
}

TEST(Int8Quantize, PerTokenMatchesScalarReference) {
  std::mt19937 gen(11);
  const int64_t tokens = 23, cols = 515;
  std::vector<float> x(static_cast<size_t>(tokens * cols));
  for (int64_t t = 0; t < tokens; ++t) {
    // Per-token magnitudes over many decades, and an all-zero token.
    std::normal_distribution<float> d(0.f, std::pow(10.f, static_cast<float>(t % 7) - 3.f));
    for (int64_t c = 0; c < cols; ++c) x[t * cols + c] = t == 5 ? 0.f : d(gen);
  }
  std::vector<int8_t> q(x.size()), q_ref(x.size());
  std::vector<float> s(tokens), s_ref(tokens);
  cpu::quantize_per_token_int8(x.data(), tokens, cols, q.data(), s.data());
  for (int64_t t = 0; t < tokens; ++t) reference_quantize(&x[t * cols], cols, &q_ref[t * cols], &s_ref[t]);
  for (int64_t t = 0; t < tokens; ++t) {
    ASSERT_EQ(s[t], s_ref[t]) << "token " << t;
    for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(q[t * cols + c], q_ref[t * cols + c]) << "token " << t << " col " << c;
  }
}

TEST(Int8Quantize, TiesRoundHalfToEven) {
  // max|x| = 127 gives scale exactly 1, so x / scale lands on exact halves.
  const std::vector<float> x = {127.f, 0.5f, 1.5f, 2.5f, -2.5f, -3.5f, 126.5f, -127.f};
  const std::vector<int8_t> expect = {127, 0, 2, 2, -2, -4, 126, -127};
  std::vector<int8_t> q(x.size());
  float scale = 0.f;
  cpu::quantize_per_token_int8(x.data(), 1, static_cast<int64_t>(x.size()), q.data(), &scale);
  EXPECT_EQ(scale, 1.0f);
  EXPECT_EQ(q, expect);
}

// Quantize + int32 GEMM + epilogue against the scalar pipeline, for the
// decode-size path and (100 tokens) the packed-panel prefill path.
void check_linear_int8(int64_t tokens, int64_t rows, int64_t cols) {
  std::mt19937 gen(3);
  const auto w = random_int8(static_cast<size_t>(rows * cols), gen, -127, 127);
  std::vector<float> w_scale(rows), x(static_cast<size_t>(tokens * cols));
  std::uniform_real_distribution<float> d(-2.f, 2.f);
  for (auto& v : w_scale) v = std::fabs(d(gen)) / 127.f + 1e-4f;
  for (auto& v : x) v = d(gen);
  LinearWeight lw;
  lw.format = WeightFormat::Int8Channel;
  lw.rows = rows;
  lw.cols = cols;
  lw.data = w.data();
  lw.scale = w_scale.data();
  std::vector<float> y(static_cast<size_t>(tokens * rows));
  cpu::linear_int8_rows(lw, 0, rows, x.data(), tokens, y.data(), rows);
  for (int64_t t = 0; t < tokens; ++t) {
    std::vector<int8_t> xq(cols);
    float xs = 0.f;
    reference_quantize(&x[t * cols], cols, xq.data(), &xs);
    for (int64_t r = 0; r < rows; ++r) {
      int32_t acc = 0;
      for (int64_t c = 0; c < cols; ++c) acc += int32_t{xq[c]} * int32_t{w[r * cols + c]};
      ASSERT_EQ(y[t * rows + r], static_cast<float>(acc) * xs * w_scale[r]) << t << "," << r;
    }
  }
}

TEST(Int8Linear, AppliesScalesAfterIntegerAccumulation) {
  check_linear_int8(1, 83, 4099);  // one token: 8-row GEMV tiles, then 4-row and single-row tails
  check_linear_int8(1, 70, 8197);  // one token, 16-row chunks of 8 KB rows: strided tiles (rows r + 2i), a 6-row chunk
  check_linear_int8(4, 9, 70);
  check_linear_int8(100, 37, 130);
}

// The AMX tiles (on CPUs with AMX; the VNNI tiles elsewhere, same outputs):
// narrow token tiles below 16 tokens,
// K a multiple of 64, 16-row weight tiles with VNNI row tails (83 = 5 x 16
// + 3), partial and odd token tiles (4, 17, 33), the prefill token blocks
// (300 tokens at K = 8192: blocks of 128, 128 and 44), and (1040 rows: row
// chunks of 32) the 2 x 2 blocks of many tokens.
TEST(Int8Linear, AmxTilesMatchTheIntegerReference) {
  check_linear_int8(2, 48, 128);  // 2-15 tokens: token tiles as wide as the step (3: odd)
  check_linear_int8(3, 83, 512);
  check_linear_int8(4, 48, 128);
  check_linear_int8(8, 83, 512);
  check_linear_int8(17, 32, 192);
  check_linear_int8(33, 50, 256);
  check_linear_int8(100, 37, 128);
  check_linear_int8(300, 20, 8192);
  check_linear_int8(100, 1040, 128);  // 32-row chunks: the 2 x 2 prefill blocks, a 4-token tail tile
}

}  // namespace
}  // namespace dsinfer
