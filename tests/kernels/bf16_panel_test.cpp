// The bf16 GEMM paths (vdpbf16ps; AMX tdpbf16ps on CPUs with AMX-BF16, for
// widths that are a multiple of 32) against a float64 loop over the same
// bf16-rounded operands: linears (AMX tiles with dot-form row tails; else
// packed panels from kBf16PanelMinTokens tokens, dot-form tiles below and
// for odd widths) and the k-major packing used for attention values, with
// ragged panels and accumulation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "io/numeric_formats.h"
#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/linear_avx512.h"
#include "support/random_data.h"

namespace dsinfer {
namespace {

float round_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

using test::uniform_floats;

class Bf16Panels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cpu::cpu_features().avx512_bf16) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX512_BF16";
  }
};

TEST_F(Bf16Panels, LinearMatchesFloat64OverRoundedOperands) {
  for (int64_t tokens : {1, 5, 47, 48, 130})
    for (int64_t rows : {1, 33, 70, 1041})  // 1041: 32-row chunks (the AMX 2 x 2 blocks of many tokens)
      for (int64_t cols : {64, 200, 201}) {
        const auto wf = uniform_floats(static_cast<size_t>(rows * cols), 7);
        const std::vector<uint16_t> wb = test::bf16_bits(wf);
        const auto x = uniform_floats(static_cast<size_t>(tokens * cols), 11);
        LinearWeight w;
        w.format = WeightFormat::BF16;
        w.rows = rows, w.cols = cols, w.data = wb.data(), w.bf16_inputs = true;
        // Rows [1, rows) into a strided output: row_begin and y_stride honoured.
        const int64_t n_rows = rows - 1, ldy = rows + 3;
        if (n_rows == 0) continue;
        std::vector<float> y(static_cast<size_t>(tokens * ldy), 42.f);
        cpu::linear_bf16_rows(w, 1, n_rows, x.data(), tokens, y.data(), ldy);
        for (int64_t t = 0; t < tokens; ++t)
          for (int64_t r = 0; r < ldy; ++r) {
            const float got = y[t * ldy + r];
            if (r >= n_rows) {
              ASSERT_EQ(got, 42.f) << "wrote past n_rows";
              continue;
            }
            double ref = 0.0, mag = 0.0;
            for (int64_t c = 0; c < cols; ++c) {
              const double p = double(round_bf16(x[t * cols + c])) * bf16_to_float(wb[(r + 1) * cols + c]);
              ref += p, mag += std::fabs(p);
            }
            ASSERT_NEAR(got, ref, 1e-6 * mag + 1e-7) << tokens << "x" << rows << "x" << cols << " t" << t << " r" << r;
          }
      }
}

TEST_F(Bf16Panels, KMajorPackingAccumulates) {
  // out[t][d] += sum_k p[t][k] v[k][d]: k odd and even, 1..64 value dims.
  for (int64_t k : {1, 2, 37, 256})
    for (int64_t nr : {1, 16, 17, 32}) {
      const int64_t ldv = nr + 5, tokens = 13, ldp = (k + 1) / 2 * 2, ldo = nr + 2;
      const auto vf = uniform_floats(static_cast<size_t>(k * ldv), 3);
      std::vector<uint16_t> vb(vf.size());
      for (size_t i = 0; i < vf.size(); ++i) vb[i] = float_to_bf16(vf[i]);
      const auto pf = uniform_floats(static_cast<size_t>(tokens * ldp), 5);
      std::vector<uint16_t> pb(pf.size());
      for (size_t i = 0; i < pf.size(); ++i) pb[i] = float_to_bf16(pf[i]);
      for (int64_t t = 0; t < tokens; ++t)
        if (k % 2) pb[t * ldp + k] = 0;  // the pad the contract asks for
      auto out = uniform_floats(static_cast<size_t>(tokens * ldo), 9);
      const auto out0 = out;
      std::vector<uint16_t> storage(static_cast<size_t>(cpu::avx512::bf16_panel_elems(k) + 32));
      uint16_t* pack = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64 / 2;
      cpu::avx512::bf16_pack_panel_kmajor(vb.data(), ldv, k, nr, pack);
      cpu::avx512::bf16_panel_rows(pack, k, nr, pb.data(), ldp, tokens, out.data(), ldo, true);
      for (int64_t t = 0; t < tokens; ++t)
        for (int64_t d = 0; d < ldo; ++d) {
          if (d >= nr) {
            ASSERT_EQ(out[t * ldo + d], out0[t * ldo + d]);
            continue;
          }
          double ref = out0[t * ldo + d], mag = std::fabs(ref);
          for (int64_t j = 0; j < k; ++j) {
            const double p = double(bf16_to_float(pb[t * ldp + j])) * bf16_to_float(vb[j * ldv + d]);
            ref += p, mag += std::fabs(p);
          }
          ASSERT_NEAR(out[t * ldo + d], ref, 1e-6 * mag + 1e-7) << "k" << k << " nr" << nr << " t" << t << " d" << d;
        }
    }
}

// On AMX a token's outputs do not depend on how many tokens share its step
// (MTP verify steps give plain decode's greedy tokens): alone (the one-token
// tiles that read x unpacked) it gets the bits it gets among 5 or 17, for
// tile widths and rows with a ragged last tile. (Without AMX, or for widths
// off the tiles, bf16 products start at kBf16PanelMinTokens in another
// order: a known gap.)
TEST_F(Bf16Panels, TokenAloneEqualsTokenAmongOthersOnTiles) {
  if (!cpu::cpu_features().amx_bf16) GTEST_SKIP() << "no AMX-BF16: the panels sum in another order";
  for (int64_t rows : {16, 83, 1041})
    for (int64_t cols : {64, 96, 7168}) {
      const auto wf = uniform_floats(static_cast<size_t>(rows * cols), 5);
      const std::vector<uint16_t> wb = test::bf16_bits(wf);
      LinearWeight w;
      w.format = WeightFormat::BF16;
      w.rows = rows, w.cols = cols, w.data = wb.data(), w.bf16_inputs = true;
      for (int64_t tokens : {5, 17}) {
        const auto x = uniform_floats(static_cast<size_t>(tokens * cols), 9);
        std::vector<float> all(static_cast<size_t>(tokens * rows)), one(static_cast<size_t>(rows));
        cpu::linear_bf16_rows(w, 0, rows, x.data(), tokens, all.data(), rows);
        const int64_t t = tokens - 1;
        cpu::linear_bf16_rows(w, 0, rows, x.data() + t * cols, 1, one.data(), rows);
        for (int64_t r = 0; r < rows; ++r)
          ASSERT_EQ(one[r], all[t * rows + r]) << "rows " << rows << " cols " << cols << " tokens " << tokens << " r " << r;
      }
    }
}

}  // namespace
}  // namespace dsinfer
