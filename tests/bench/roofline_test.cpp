// The roofline a phase is judged against: its bytes over the read ceiling
// or its FLOPs over the peak of the unit its weights run on, whichever is
// longer.
#include <gtest/gtest.h>

#include "bench/layer_bench.h"

namespace dsinfer::bench {
namespace {

Ceilings ceilings() {
  Ceilings c;
  c.read_gb_per_s = 100;  // 1 GB: 10 ms
  c.int8_tops = 4;
  c.bf16_tflops = 1;
  c.fp32_tflops = 0.5;
  return c;
}

TEST(Roofline, W8A8LmHeadMeetsTheBf16PeakNotTheInt8One) {
  const Ceilings c = ceilings();
  const PhaseResult experts{"routed_experts", 0, 1e9, 1e12}, head{"lm_head", 0, 1e9, 1e12};
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::W8A8, experts), 250.0);  // 1 TFLOP at 4 TOPS
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::W8A8, head), 1000.0);    // bf16 weights: 1 TFLOPS
  EXPECT_EQ(phase_weights(BenchWeights::W8A8, head), BenchWeights::BF16);
  EXPECT_EQ(phase_weights(BenchWeights::W8A8, experts), BenchWeights::W8A8);
  EXPECT_EQ(phase_weights(BenchWeights::FP8, head), BenchWeights::FP8);
}

TEST(Roofline, MemoryBoundPhaseIsItsBytesOverTheCeiling) {
  const Ceilings c = ceilings();
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::W8A8, PhaseResult{"lm_head", 0, 1e9, 1e9}), 10.0);
}

TEST(Roofline, Bf16WeightsMeetTheFasterOfBf16AndFp32) {
  Ceilings c = ceilings();
  const PhaseResult head{"lm_head", 0, 0, 1e12};
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::BF16, head), 1000.0);
  c.fp32_tflops = 2;  // a core whose vdpbf16ps is the slower unit
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::BF16, head), 500.0);
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::W8A8, head), 500.0);
}

TEST(Roofline, Fp8LmHeadMeetsTheFasterOfFp32AndAThirdOfBf16) {
  Ceilings c = ceilings();  // bf16 / 3 below fp32: the float32 FMAs
  const PhaseResult head{"lm_head", 0, 0, 1e12}, experts{"routed_experts", 0, 0, 1e12};
  std::string name;
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::FP8, head), 2000.0);
  EXPECT_DOUBLE_EQ(phase_peak(c, BenchWeights::FP8, head, &name), 0.5e12);
  EXPECT_EQ(name, "fp32");
  c.bf16_tflops = 6;  // AMX: x in three bf16 parts, 2 TFLOPS of float32-accurate products
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::FP8, head), 500.0);
  EXPECT_DOUBLE_EQ(phase_peak(c, BenchWeights::FP8, head, &name), 2e12);
  EXPECT_EQ(name, "bf16x3");
  EXPECT_DOUBLE_EQ(roofline_ms(c, BenchWeights::FP8, experts), 2000.0);  // FP8 weights: float32 FMAs
}

}  // namespace
}  // namespace dsinfer::bench
