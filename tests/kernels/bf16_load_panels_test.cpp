// The bf16 panels packed at load (kernels/cpu/bf16_load_panels.h): every
// output has the bits of one in-order float32 FMA chain over k (checked
// against std::fma), for every token count (so a token's result does not
// depend on its step), rows off the 16-row panels, row ranges starting and
// ending inside a panel, and nothing written outside the range asked for.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "backend/linear_weight.h"
#include "io/numeric_formats.h"
#include "kernels/cpu/bf16_load_panels.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "support/random_data.h"

namespace dsinfer {
namespace {

LinearWeight bf16_weight(const std::vector<uint16_t>& bits, int64_t rows, int64_t cols) {
  LinearWeight w;
  w.name = "test.weight";
  w.format = WeightFormat::BF16;
  w.rows = rows;
  w.cols = cols;
  w.data = bits.data();
  return w;
}

float in_order_chain(const uint16_t* row, const float* x, int64_t cols) {
  float acc = 0.f;
  for (int64_t k = 0; k < cols; ++k) acc = std::fma(bf16_to_float(row[k]), x[k], acc);
  return acc;
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST(Bf16LoadPanels, EveryOutputIsTheInOrderFmaChain) {
  if (!cpu::cpu_features().avx2) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX2";
  for (int64_t cols : {1, 7, 300, 2113})
    for (int64_t rows : {1, 15, 16, 17, 70}) {
      const auto bits = test::bf16_bits(test::uniform_floats(static_cast<size_t>(rows * cols), 11));
      const LinearWeight w = bf16_weight(bits, rows, cols);
      const auto panels = cpu::pack_bf16_panels(w);
      const auto* p = static_cast<const uint16_t*>(panels.get());
      for (int64_t tokens : {1, 2, 3, 5, 7, 8, 13, 32}) {
        const auto x = test::uniform_floats(static_cast<size_t>(tokens * cols), 5);
        // All rows, then a range that starts and ends inside panels.
        for (auto [r0, r1] : {std::pair<int64_t, int64_t>{0, rows}, {rows > 4 ? 3 : 0, rows > 4 ? rows - 1 : rows}}) {
          const int64_t ldy = r1 - r0 + 3;
          const float sentinel = -12345.f;
          std::vector<float> y(static_cast<size_t>(tokens * ldy), sentinel);
          cpu::avx2::bf16_panel_rows(p, cols, r0, r1, x.data(), 0, tokens, y.data(), ldy, r0);
          for (int64_t t = 0; t < tokens; ++t)
            for (int64_t c = 0; c < ldy; ++c) {
              const float got = y[static_cast<size_t>(t * ldy + c)];
              if (c >= r1 - r0) {
                ASSERT_EQ(got, sentinel) << "wrote past the rows at t" << t << " c" << c;
                continue;
              }
              const int64_t r = r0 + c;
              const float want = in_order_chain(bits.data() + r * cols, x.data() + t * cols, cols);
              ASSERT_EQ(bits_of(got), bits_of(want)) << rows << "x" << cols << " tokens " << tokens << " rows ["
                                                     << r0 << ", " << r1 << ") t" << t << " r" << r;
            }
        }
      }
    }
}

// Through the backend: pack_weight packs a bf16 weight only where the panels
// apply, and linear() then gives each token the bits it gets alone, within a
// float64 bound of the exact sum.
TEST(Bf16LoadPanels, BackendPacksWhereTheyApplyAndTokensKeepTheirBits) {
  const int64_t rows = 203, cols = 1024;
  const auto bits = test::bf16_bits(test::uniform_floats(static_cast<size_t>(rows * cols), 3));
  LinearWeight w = bf16_weight(bits, rows, cols);
  const auto backend = cpu::make_cpu_backend();
  backend->pack_weight(w);
  EXPECT_EQ(w.packed != nullptr, cpu::bf16_panels_apply(w));
  LinearWeight int8 = w;
  int8.format = WeightFormat::Int8Channel;
  int8.packed.reset();
  backend->pack_weight(int8);
  EXPECT_EQ(int8.packed, nullptr) << "only bf16 weights have panels";

  const int64_t tokens = 19;
  const auto x = test::uniform_floats(static_cast<size_t>(tokens * cols), 8);
  std::vector<float> all(static_cast<size_t>(tokens * rows)), one(static_cast<size_t>(rows));
  backend->linear(w, x.data(), tokens, all.data());
  for (int64_t t = 0; t < tokens; ++t) {
    backend->linear(w, x.data() + t * cols, 1, one.data());
    for (int64_t r = 0; r < rows; ++r) {
      const float got = all[static_cast<size_t>(t * rows + r)];
      ASSERT_EQ(bits_of(got), bits_of(one[static_cast<size_t>(r)])) << "t" << t << " r" << r;
      double exact = 0, mag = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const double p = double(bf16_to_float(bits[r * cols + c])) * x[t * cols + c];
        exact += p;
        mag += std::fabs(p);
      }
      ASSERT_NEAR(got, exact, 1.2e-7 * static_cast<double>(cols) * mag) << "t" << t << " r" << r;
    }
  }
}

}  // namespace
}  // namespace dsinfer
