// The panels packed at load (kernels/cpu/load_panels.h), BF16 and FP8:
// every output has the bits of one in-order float32 FMA chain over k
// (checked against std::fma; FP8 as the codes' exact float32 images times
// the activations scaled per block, load_panels.h, through both widenings),
// for every token count (so a token's result does not depend on its step),
// rows off the 16-row panels, row ranges starting and ending inside a panel,
// k over several k-blocks and scale blocks, nothing written outside the
// range asked for; the backend packs only what the panels apply to.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/linear_weight.h"
#include "io/numeric_formats.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/load_panels.h"
#include "kernels/cpu/pack_budget.h"
#include "support/random_data.h"
#include "support/stored_weight.h"

namespace dsinfer {
namespace {

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

using TestWeight = test::StoredWeight;

TestWeight bf16_weight(int64_t rows, int64_t cols, unsigned seed) {
  TestWeight t;
  t.bf16 = test::bf16_bits(test::uniform_floats(static_cast<size_t>(rows * cols), seed));
  t.w.name = "test.bf16";
  t.w.format = WeightFormat::BF16;
  t.w.rows = rows;
  t.w.cols = cols;
  t.w.data = t.bf16.data();
  return t;
}

// Every e4m3 code but the NaNs (subnormals included), scales spread over
// 2^-12 .. 2^-4 so products differ from block to block.
TestWeight fp8_weight(int64_t rows, int64_t cols, int64_t block_rows, int64_t block_cols, unsigned seed) {
  TestWeight t;
  std::mt19937 rng(seed);
  t.fp8.resize(static_cast<size_t>(rows * cols));
  for (auto& c : t.fp8) {
    do c = static_cast<uint8_t>(rng());
    while ((c & 0x7F) == 0x7F);
  }
  t.w.name = "test.fp8";
  t.w.format = WeightFormat::Fp8Block;
  t.w.rows = rows;
  t.w.cols = cols;
  t.w.block_rows = block_rows;
  t.w.block_cols = block_cols;
  t.scale.resize(static_cast<size_t>((rows + block_rows - 1) / block_rows * t.w.scale_cols()));
  for (auto& s : t.scale) s = std::ldexp(1.f + static_cast<float>(rng() % 1000) / 1000.f, -4 - static_cast<int>(rng() % 9));
  t.w.data = t.fp8.data();
  t.w.scale = t.scale.data();
  return t;
}

// The chain load_panels.h defines for row r and one token's x: BF16
// fma(w, x, acc); FP8 fma(value * 2^-120, x * (scale * 2^64), acc) * 2^56.
float panel_chain(const TestWeight& t, int64_t r, const float* x) {
  float acc = 0.f;
  for (int64_t k = 0; k < t.w.cols; ++k) {
    if (t.w.format == WeightFormat::BF16) {
      acc = std::fma(t.value(r, k), x[k], acc);
      continue;
    }
    const float code_image = std::ldexp(fp8_table().value[t.fp8[static_cast<size_t>(r * t.w.cols + k)]], -120);
    const float scale = t.scale[static_cast<size_t>(r / t.w.block_rows * t.w.scale_cols() + k / t.w.block_cols)];
    acc = std::fma(code_image, x[k] * std::ldexp(scale, 64), acc);
  }
  return t.w.format == WeightFormat::BF16 ? acc : std::ldexp(acc, 56);
}

constexpr std::array kWidenings = {cpu::Fp8Widening::kShift, cpu::Fp8Widening::kHalf};

const char* widening_name(cpu::Fp8Widening f) { return f == cpu::Fp8Widening::kShift ? "shift" : "half"; }

void expect_in_order_chains(TestWeight& t, cpu::Fp8Widening widening) {
  const int64_t rows = t.w.rows, cols = t.w.cols;
  t.w.packed = cpu::pack_load_panels(t.w);
  ASSERT_NE(t.w.packed, nullptr);
  for (int64_t tokens : {1, 2, 3, 5, 7, 8, 13, 32}) {
    const auto x = test::uniform_floats(static_cast<size_t>(tokens * cols), 5);
    // All rows, then a range that starts and ends inside panels.
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, rows}, {rows > 4 ? 3 : 0, rows > 4 ? rows - 1 : rows}}) {
      const int64_t ldy = r1 - r0 + 3;
      const float sentinel = -12345.f;
      std::vector<float> y(static_cast<size_t>(tokens * ldy), sentinel);
      cpu::avx2::load_panel_rows(t.w, r0, r1, x.data(), 0, tokens, y.data(), ldy, r0, widening);
      for (int64_t i = 0; i < tokens; ++i)
        for (int64_t c = 0; c < ldy; ++c) {
          const float got = y[static_cast<size_t>(i * ldy + c)];
          if (c >= r1 - r0) {
            ASSERT_EQ(got, sentinel) << "wrote past the rows at t" << i << " c" << c;
            continue;
          }
          const int64_t r = r0 + c;
          const float want = panel_chain(t, r, x.data() + i * cols);
          ASSERT_EQ(bits_of(got), bits_of(want)) << t.w.name << " (" << widening_name(widening) << ") " << rows << "x"
                                                 << cols << " tokens " << tokens
                                                 << " rows [" << r0 << ", " << r1 << ") t" << i << " r" << r;
        }
    }
  }
}

TEST(LoadPanels, Bf16OutputsAreTheInOrderFmaChain) {
  if (!cpu::cpu_features().avx2) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX2";
  for (int64_t cols : {1, 7, 300, 2113})
    for (int64_t rows : {1, 15, 16, 17, 70}) {
      TestWeight t = bf16_weight(rows, cols, 11);
      expect_in_order_chains(t, cpu::fp8_panel_widening());
    }
}

TEST(LoadPanels, Fp8OutputsAreTheInOrderFmaChainOfScaledValues) {
  if (!cpu::cpu_features().avx2) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX2";
  for (auto [rows, cols, br, bc] : {std::array<int64_t, 4>{37, 300, 16, 128}, {70, 2113, 32, 128},
                                   {16, 1, 16, 128}, {131, 1030, 128, 48}}) {
    TestWeight t = fp8_weight(rows, cols, br, bc, 9);
    for (const cpu::Fp8Widening widening : kWidenings) expect_in_order_chains(t, widening);
  }
}

// The images are exact: a chain of one column is value * 2^-120 times
// x * scale * 2^64 rounded once, times 2^56, for every code but the NaNs
// (subnormals included), against the float64 product, in either widening.
TEST(LoadPanels, Fp8ImagesAreExactForEveryCode) {
  if (!cpu::cpu_features().avx2) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX2";
  TestWeight t = fp8_weight(256, 1, 16, 128, 1);
  for (int r = 0; r < 256; ++r) t.fp8[static_cast<size_t>(r)] = static_cast<uint8_t>((r & 0x7F) == 0x7F ? 0 : r);
  t.w.packed = cpu::pack_load_panels(t.w);
  ASSERT_NE(t.w.packed, nullptr);
  const float x = 1.f;
  for (const cpu::Fp8Widening widening : kWidenings) {
    std::vector<float> y(256);
    cpu::avx2::load_panel_rows(t.w, 0, 256, &x, 0, 1, y.data(), 256, 0, widening);
    for (int r = 0; r < 256; ++r) {
      const double want = static_cast<double>(fp8_table().value[t.fp8[static_cast<size_t>(r)]]) *
                          static_cast<double>(t.scale[static_cast<size_t>(r / 16)]);
      EXPECT_EQ(static_cast<double>(y[static_cast<size_t>(r)]), static_cast<double>(static_cast<float>(want)))
          << widening_name(widening) << " code 0x" << std::hex << int(t.fp8[static_cast<size_t>(r)]);
    }
  }
}

TEST(LoadPanels, Fp8WithAScaleOutOfRangeIsNotPacked) {
  for (float bad : {std::ldexp(1.f, 17), -std::ldexp(1.f, 17), std::ldexp(1.f, -79), std::nanf(""), INFINITY}) {
    TestWeight t = fp8_weight(32, 256, 16, 128, 2);
    t.scale[2] = 0.f;  // an all-zero block's
    t.scale[1] = std::ldexp(1.f, -78);
    EXPECT_NE(cpu::pack_load_panels(t.w), nullptr);
    t.scale[3] = bad;
    EXPECT_EQ(cpu::pack_load_panels(t.w), nullptr) << bad;
  }
}

TEST(LoadPanels, Fp8WithANanCodeIsNotPacked) {
  TestWeight t = fp8_weight(32, 256, 16, 128, 2);
  t.fp8[1000] = 0xFF;
  EXPECT_EQ(cpu::pack_load_panels(t.w), nullptr);
  const auto backend = cpu::make_cpu_backend();
  backend->pack_weight(t.w);
  EXPECT_EQ(t.w.packed, nullptr);
  // The dot-form tiles then run it, and the NaN reaches its row's outputs.
  const auto x = test::uniform_floats(256, 1);
  std::vector<float> y(32);
  backend->linear(t.w, x.data(), 1, y.data());
  EXPECT_TRUE(std::isnan(y[1000 / 256]));
  EXPECT_FALSE(std::isnan(y[0]));
}

// Through the backend: pack_weight packs a weight only where the panels
// apply, and linear() then gives each token the bits it gets alone, within
// a float64 bound of the exact sum.
TEST(LoadPanels, BackendPacksWhereTheyApplyAndTokensKeepTheirBits) {
  const int64_t rows = 203, cols = 1024;
  TestWeight bf16 = bf16_weight(rows, cols, 3), fp8 = fp8_weight(rows, cols, 128, 128, 4);
  const auto backend = cpu::make_cpu_backend();
  for (TestWeight* t : {&bf16, &fp8}) {
    backend->pack_weight(t->w);
    EXPECT_EQ(t->w.packed != nullptr, cpu::load_panels_apply(t->w)) << t->w.name;
    const int64_t tokens = 19;
    const auto x = test::uniform_floats(static_cast<size_t>(tokens * cols), 8);
    std::vector<float> all(static_cast<size_t>(tokens * rows)), one(static_cast<size_t>(rows));
    backend->linear(t->w, x.data(), tokens, all.data());
    for (int64_t i = 0; i < tokens; ++i) {
      backend->linear(t->w, x.data() + i * cols, 1, one.data());
      for (int64_t r = 0; r < rows; ++r) {
        const float got = all[static_cast<size_t>(i * rows + r)];
        ASSERT_EQ(bits_of(got), bits_of(one[static_cast<size_t>(r)])) << t->w.name << " t" << i << " r" << r;
        double exact = 0, mag = 0;
        for (int64_t c = 0; c < cols; ++c) {
          const double p = double(t->value(r, c)) * x[i * cols + c];
          exact += p;
          mag += std::fabs(p);
        }
        ASSERT_NEAR(got, exact, 1.2e-7 * static_cast<double>(cols) * mag) << t->w.name << " t" << i << " r" << r;
      }
    }
  }
  LinearWeight int8 = bf16.w;
  int8.format = WeightFormat::Int8Channel;
  int8.packed.reset();
  backend->pack_weight(int8);
  EXPECT_EQ(int8.packed, nullptr) << "int8 weights keep their dot-form tiles";
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

TEST(PackBudget, ACopyReturnsItsBytesWhenLetGo) {
  test::StoredWeight t;
  t.bf16 = test::bf16_bits(test::uniform_floats(64 * 256, 1));
  t.w.format = WeightFormat::BF16;
  t.w.rows = 64;
  t.w.cols = 256;
  t.w.data = t.bf16.data();
  if (!cpu::load_panels_apply(t.w)) GTEST_SKIP() << "no load panels on this CPU (or DSINFER_ISA)";
  const uint64_t before = cpu::process_pack_budget().left();
  cpu::make_cpu_backend()->pack_weight(t.w);
  ASSERT_NE(t.w.packed, nullptr);
  EXPECT_EQ(cpu::process_pack_budget().left(), before - cpu::load_panels_bytes(t.w));
  LinearWeight copy = t.w;  // copies share the panels
  t.w.packed.reset();
  EXPECT_EQ(cpu::process_pack_budget().left(), before - cpu::load_panels_bytes(t.w));
  copy.packed.reset();
  EXPECT_EQ(cpu::process_pack_budget().left(), before);
}

TEST(PackBudget, TakesOnlyWhatIsLeft) {
  cpu::PackBudget b(100);
  EXPECT_TRUE(b.take(60));
  EXPECT_FALSE(b.take(60));
  EXPECT_EQ(b.left(), 40u);
  EXPECT_TRUE(b.take(40));
  EXPECT_FALSE(b.take(1));
  b.give_back(10);
  EXPECT_TRUE(b.take(10));
}

}  // namespace
}  // namespace dsinfer
