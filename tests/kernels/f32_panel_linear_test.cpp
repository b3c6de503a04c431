// bf16 weights x float32 activations at float32 accuracy on AVX-512 without
// AMX (linear_bf16_f32_panels, the prefill kv_b expansion there): matches a
// float64 loop to float32 summation error and a token's outputs are the
// same bits alone as among others (ragged row panels, token tiles of 1-12,
// several token blocks, K not a multiple of 16).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "support/float64_linear.h"
#include "support/random_data.h"

namespace dsinfer {
namespace {

TEST(F32Panels, LinearMatchesFloat64AndTokensStayIndependent) {
  if (!cpu::cpu_features().avx512) GTEST_SKIP() << "CPU (or DSINFER_ISA) without AVX-512";
  struct Case {
    int64_t tokens, rows, cols;
  };
  for (const Case c : {Case{1, 32, 16}, Case{13, 45, 40}, Case{40, 83, 512}, Case{300, 64, 200}, Case{7, 5, 3}}) {
    const auto wf = test::uniform_floats(static_cast<size_t>(c.rows * c.cols), 3);
    const std::vector<uint16_t> wb = test::bf16_bits(wf);
    const auto x = test::uniform_floats(static_cast<size_t>(c.tokens * c.cols), 9, -3.f, 3.f);
    LinearWeight w;
    w.format = WeightFormat::BF16;
    w.rows = c.rows, w.cols = c.cols, w.data = wb.data(), w.bf16_inputs = true;  // ignored: float32 accuracy
    std::vector<float> y(static_cast<size_t>(c.tokens * c.rows), -1.f);
    cpu::linear_bf16_f32_panels(w, x.data(), c.tokens, y.data());
    ASSERT_LE(test::worst_relative_error(wb, x.data(), y.data(), c.tokens, c.rows, c.cols),
              test::float32_sum_bound(c.cols))
        << "tokens " << c.tokens << " rows " << c.rows << " cols " << c.cols;
    for (const int64_t t : {int64_t{0}, c.tokens - 1}) {
      std::vector<float> alone(static_cast<size_t>(c.rows));
      cpu::linear_bf16_f32_panels(w, x.data() + t * c.cols, 1, alone.data());
      ASSERT_EQ(0, std::memcmp(alone.data(), y.data() + t * c.rows, alone.size() * 4)) << "token " << t;
    }
    // Where AMX is absent this is the float32-accuracy linear itself.
    if (!cpu::cpu_features().amx_bf16) {
      std::vector<float> via(y.size());
      cpu::linear_f32_accuracy(w, x.data(), c.tokens, via.data());
      ASSERT_EQ(0, std::memcmp(via.data(), y.data(), y.size() * 4));
    }
  }
}

}  // namespace
}  // namespace dsinfer
