// FP8 e4m3 block-scaled linears (cpu::linear_rows) against a float64
// reference of the e4m3 definition: every code (subnormals and NaN
// included), ragged shapes, and every token count the dispatch splits on
// (byte-table tiles for decode, scaled-form tiles for more tokens), and a
// token's result does not depend on how many share its call.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"

namespace dsinfer {
namespace {

// The OCP e4m3fn value of a code: bias 7, subnormals m * 2^-9, S.1111.111 NaN.
double e4m3_value(uint8_t c) {
  const int e = (c >> 3) & 15, m = c & 7;
  const double sign = (c & 0x80) ? -1.0 : 1.0;
  if ((c & 0x7f) == 0x7f) return std::numeric_limits<double>::quiet_NaN();
  if (e == 0) return sign * std::ldexp(m, -9);
  return sign * std::ldexp(1.0 + m / 8.0, e - 7);
}

struct Fp8Matrix {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  LinearWeight w;
};

Fp8Matrix make(int64_t rows, int64_t cols, std::mt19937& gen) {
  Fp8Matrix m;
  m.codes.resize(static_cast<size_t>(rows * cols));
  for (auto& c : m.codes) {
    c = static_cast<uint8_t>(gen());
    if ((c & 0x7f) == 0x7f) c ^= 1;  // finite codes only here
  }
  const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
  m.scales.resize(static_cast<size_t>(sr * sc));
  for (auto& s : m.scales) s = std::ldexp(1.0f + static_cast<float>(gen() % 1000) / 1000.f, -static_cast<int>(gen() % 12));
  m.w.format = WeightFormat::Fp8Block;
  m.w.rows = rows;
  m.w.cols = cols;
  m.w.data = m.codes.data();
  m.w.scale = m.scales.data();
  return m;
}

// Every code at every position of a 64-column group and in both halves of a
// block: a one-hot x reads value * scale back exactly (one rounding).
TEST(Fp8Linear, EveryCodeIsExactIncludingSubnormalsAndNaN) {
  const int64_t rows = 256, cols = 256;
  Fp8Matrix m;
  m.codes.assign(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k) {
      const auto c = static_cast<uint8_t>((r + 7 * k) & 0xff);
      // NaN codes would make every sum of their row NaN (NaN * 0): checked below.
      m.codes[static_cast<size_t>(r * cols + k)] = (c & 0x7f) == 0x7f ? 0 : c;
    }
  m.scales = {0.75f, 3.0f, 1.5e-3f, 2.0f};  // [2 x 2] blocks
  m.w.format = WeightFormat::Fp8Block;
  m.w.rows = rows;
  m.w.cols = cols;
  m.w.data = m.codes.data();
  m.w.scale = m.scales.data();
  std::vector<float> x(cols), y(rows);
  for (int64_t k : {0, 1, 8, 9, 17, 63, 64, 127, 128, 200, 255}) {
    std::fill(x.begin(), x.end(), 0.f);
    x[static_cast<size_t>(k)] = 1.f;
    cpu::linear_rows(m.w, 0, rows, x.data(), 1, y.data(), rows);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t c = m.codes[static_cast<size_t>(r * cols + k)];
      const float s = m.scales[static_cast<size_t>((r / 128) * 2 + k / 128)];
      const double v = e4m3_value(c);
      ASSERT_EQ(y[static_cast<size_t>(r)], static_cast<float>(v) * s) << "code " << int(c) << " row " << r << " col " << k;
    }
  }
  // Both NaN codes poison their row's output, whatever x holds there.
  m.codes[3] = 0x7f;
  m.codes[static_cast<size_t>(9 * cols + 130)] = 0xff;
  std::fill(x.begin(), x.end(), 1.f);
  x[3] = x[130] = 0.f;
  cpu::linear_rows(m.w, 0, rows, x.data(), 1, y.data(), rows);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_TRUE(std::isnan(y[9]));
  EXPECT_FALSE(std::isnan(y[1]));
}

// The dispatched dequant_row (byte tables where the CPU has VBMI) equals the
// scalar definition bit for bit, ragged row tails included.
TEST(Fp8Linear, DequantRowEqualsTheScalarDefinition) {
  std::mt19937 gen(5);
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{136, 200}, {19, 4099}, {130, 256}}) {
    const Fp8Matrix m = make(rows, cols, gen);
    std::vector<float> fast(static_cast<size_t>(cols)), ref(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      cpu::dequant_row(m.w, r, fast.data());
      m.w.dequant_row(r, ref.data());
      for (int64_t c = 0; c < cols; ++c)
        ASSERT_EQ(fast[static_cast<size_t>(c)], ref[static_cast<size_t>(c)]) << rows << "x" << cols << " at " << r << "," << c;
    }
  }
}

TEST(Fp8Linear, MatchesFloat64ReferenceAtEveryTokenCount) {
  std::mt19937 gen(11);
  // 40 x 8192: 16-row chunks long enough for the strided tiles of one and
  // two tokens (rows r + i S).
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{83, 200}, {136, 1024}, {19, 4099}, {40, 8192}}) {
    const Fp8Matrix m = make(rows, cols, gen);
    for (int64_t tokens : {1, 2, 3, 4, 5, 7, 8, 9, 40}) {
      std::normal_distribution<float> nd;
      std::vector<float> x(static_cast<size_t>(tokens * cols));
      for (auto& v : x) v = nd(gen);
      const int64_t row_begin = 5, n_rows = rows - 5;
      std::vector<float> y(static_cast<size_t>(tokens * n_rows), -1.f);
      cpu::linear_rows(m.w, row_begin, n_rows, x.data(), tokens, y.data(), n_rows);
      // Each token alone gets the bits it got among the others (MTP verify
      // steps must reproduce plain decode).
      std::vector<float> one(static_cast<size_t>(n_rows));
      for (int64_t t = 0; t < tokens; ++t) {
        cpu::linear_rows(m.w, row_begin, n_rows, x.data() + t * cols, 1, one.data(), n_rows);
        for (int64_t r = 0; r < n_rows; ++r)
          ASSERT_EQ(one[static_cast<size_t>(r)], y[static_cast<size_t>(t * n_rows + r)])
              << "rows " << rows << " cols " << cols << " tokens " << tokens << " t " << t << " r " << r;
      }
      for (int64_t t = 0; t < tokens; ++t)
        for (int64_t r = 0; r < n_rows; ++r) {
          double ref = 0, mag = 0;
          for (int64_t k = 0; k < cols; ++k) {
            const int64_t R = row_begin + r;
            const double w = e4m3_value(m.codes[static_cast<size_t>(R * cols + k)]) *
                             m.scales[static_cast<size_t>((R / 128) * ((cols + 127) / 128) + k / 128)];
            ref += w * x[static_cast<size_t>(t * cols + k)];
            mag += std::fabs(w * x[static_cast<size_t>(t * cols + k)]);
          }
          ASSERT_NEAR(y[static_cast<size_t>(t * n_rows + r)], ref, 2e-6 * mag + 1e-30)
              << "rows " << rows << " cols " << cols << " tokens " << tokens << " t " << t << " r " << r;
        }
    }
  }
}

}  // namespace
}  // namespace dsinfer
