// The dot-form tiles' k-blocked order (activations of several tokens larger
// than L1: groups of 16 rows pass k-block by k-block, accumulators carried
// between blocks): int8 sums exact against a scalar int32 loop, bf16 sums
// (bf16 or float32 activations) bit-identical to the whole-row order (a
// token computed alone, whose activations fit L1) and within a float64 bound. Shapes: several k-blocks
// with a ragged last one, row counts off the 4-row tiles and 16-row groups,
// token counts across the 48-token carry parts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "io/numeric_formats.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/int8_linear.h"
#include "kernels/cpu/linear_avx512.h"
#include "support/random_data.h"

namespace dsinfer {
namespace {

std::vector<int8_t> random_int8(size_t n, unsigned seed) {
  const auto f = test::uniform_floats(n, seed, -127.f, 127.f);
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int8_t>(std::lrint(f[i]));
  return v;
}

TEST(KBlockedTiles, Int8SumsExact) {
  if (!cpu::cpu_features().avx512_vnni) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX512_VNNI";
  for (int64_t cols : {2113, 7168})
    for (int64_t rows : {5, 37, 70})
      for (int64_t tokens : {6, 8, 13, 50}) {
        const auto w = random_int8(static_cast<size_t>(rows * cols), 3);
        const auto x = random_int8(static_cast<size_t>(tokens * cols), 5);
        const int64_t lda = rows + 2;
        std::vector<int32_t> acc(static_cast<size_t>(tokens * lda), 7);
        // Rows [1, rows): a row_begin inside the matrix.
        cpu::gemm_int8_int32(x.data(), tokens, w.data(), 1, rows - 1, cols, acc.data(), lda);
        for (int64_t t = 0; t < tokens; ++t)
          for (int64_t r = 0; r < lda; ++r) {
            if (r >= rows - 1) {
              ASSERT_EQ(acc[t * lda + r], 7) << "wrote past n_rows";
              continue;
            }
            int32_t ref = 0;
            for (int64_t c = 0; c < cols; ++c) ref += int32_t{x[t * cols + c]} * w[(r + 1) * cols + c];
            ASSERT_EQ(acc[t * lda + r], ref) << tokens << "x" << rows << "x" << cols << " t" << t << " r" << r;
          }
      }
}

// Over the bf16 tests' shapes: all(tokens, rows, cols, w) runs every token
// at once and returns y[t * rows + r]; one(t, y) runs token t alone; x(t, c)
// is the activation the products use. Each output must have the bits of its
// token alone (a token's activations fit L1: the whole-row order) and be
// within a float64 bound of the exact sum.
template <class All, class One, class X>
void expect_token_alone_bits(int64_t cols, int64_t rows, int64_t tokens, const std::vector<uint16_t>& w, All&& all_of,
                             One&& one_of, X&& x) {
  const std::vector<float> all = all_of();
  std::vector<float> one(static_cast<size_t>(rows));
  for (int64_t t = 0; t < tokens; ++t) {
    one_of(t, one.data());
    for (int64_t r = 0; r < rows; ++r) {
      const float got = all[t * rows + r];
      ASSERT_EQ(std::memcmp(&got, &one[r], sizeof got), 0)
          << tokens << "x" << rows << "x" << cols << " t" << t << " r" << r << ": " << got << " vs " << one[r];
      double ref = 0.0, mag = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        const double p = double(x(t, c)) * bf16_to_float(w[r * cols + c]);
        ref += p, mag += std::fabs(p);
      }
      ASSERT_NEAR(got, ref, 1e-6 * mag + 1e-7) << tokens << "x" << rows << "x" << cols << " t" << t << " r" << r;
    }
  }
}

TEST(KBlockedTiles, Bf16SameBitsAsWholeRows) {
  if (!cpu::cpu_features().avx512_bf16) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX512_BF16";
  for (int64_t cols : {2113, 4096})
    for (int64_t rows : {5, 37})
      for (int64_t tokens : {6, 8, 13, 50}) {
        const auto w = test::bf16_bits(test::uniform_floats(static_cast<size_t>(rows * cols), 7));
        const auto x = test::bf16_bits(test::uniform_floats(static_cast<size_t>(tokens * cols), 9));
        expect_token_alone_bits(
            cols, rows, tokens, w,
            [&] {
              std::vector<float> all(static_cast<size_t>(tokens * rows));
              cpu::avx512::bf16_rows(w.data(), cols, 0, rows, x.data(), 0, tokens, all.data(), rows, 0);
              return all;
            },
            [&](int64_t t, float* y) {
              cpu::avx512::bf16_rows(w.data(), cols, 0, rows, x.data() + t * cols, 0, 1, y, rows, 0);
            },
            [&](int64_t t, int64_t c) { return bf16_to_float(x[t * cols + c]); });
      }
}

// bf16 weights x float32 activations (exact products): from 6 tokens the
// k-blocked order, and 4 x 6 tiles that take each row's even and odd halves
// in turn; a token alone takes the 8-row GEMV tiles with both halves at once.
TEST(KBlockedTiles, Bf16F32SameBitsAsOneToken) {
  if (!cpu::cpu_features().avx512) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX-512";
  for (int64_t cols : {2113, 7168})
    for (int64_t rows : {5, 37})
      for (int64_t tokens : {6, 8, 13, 50}) {
        const auto w = test::bf16_bits(test::uniform_floats(static_cast<size_t>(rows * cols), 11));
        const auto x = test::uniform_floats(static_cast<size_t>(tokens * cols), 13);
        const int64_t ld = cpu::avx512::bf16f32_x_stride(cols);
        std::vector<float> xp(static_cast<size_t>(tokens * ld));
        cpu::avx512::bf16f32_permute_x(x.data(), tokens, cols, xp.data());
        expect_token_alone_bits(
            cols, rows, tokens, w,
            [&] {
              std::vector<float> all(static_cast<size_t>(tokens * rows));
              cpu::avx512::bf16f32_rows(w.data(), cols, 0, rows, xp.data(), 0, tokens, all.data(), rows, 0);
              return all;
            },
            [&](int64_t t, float* y) {
              cpu::avx512::bf16f32_rows(w.data(), cols, 0, rows, xp.data() + t * ld, 0, 1, y, rows, 0);
            },
            [&](int64_t t, int64_t c) { return x[t * cols + c]; });
      }
}

}  // namespace
}  // namespace dsinfer
