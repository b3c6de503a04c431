// Compute precision: which precision a checkpoint gets by default, and that
// BF16 (bf16 prefill attention scores/values, bf16 inputs to bf16 linears from
// kBf16MinTokens tokens on) stays within bf16 accuracy of the float32 golden
// logits while really taking the bf16 path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "runtime/load_model.h"
#include "support/reserved_forward.h"
#include "io/error.h"
#include "kernels/cpu/cpu_features.h"
#include "runtime/generation.h"
#include "support/golden_fixture.h"

namespace dsinfer {
namespace {

TEST(ComputePrecision, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_compute_precision("fp32", "x"), ComputePrecision::Float32);
  EXPECT_EQ(parse_compute_precision("bf16", "x"), ComputePrecision::BF16);
  EXPECT_EQ(parse_compute_precision("auto", "x"), std::nullopt);
  try {
    parse_compute_precision("fp16", "run --precision");
    FAIL() << "fp16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run --precision"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'fp16'"), std::string::npos) << e.what();
  }
}

using PrecisionTest = test::GoldenModelTest;

TEST_P(PrecisionTest, Fp8ReleaseDefaultsToFloat32) {
  EXPECT_EQ(model_->compute_precision(), ComputePrecision::Float32);
  EXPECT_FALSE(model_->weights().lm_head.bf16_inputs);
}

TEST_P(PrecisionTest, Bf16StaysNearGoldenAndDiffersFromFloat32) {
  if (!cpu::cpu_features().avx512_bf16) GTEST_SKIP() << "no AVX512_BF16: BF16 precision runs the exact kernels";
  const auto bf16 = load_model(g_->model_dir, ComputePrecision::BF16);
  ASSERT_EQ(bf16->compute_precision(), ComputePrecision::BF16);
  EXPECT_TRUE(bf16->weights().lm_head.bf16_inputs);  // the FP8 release's bf16 head
  // Aggregated over every prompt position as the conversion accuracy test
  // does (the tiny random models are chaotic: one flipped expert choice moves
  // a whole prompt), with the same bf16 bounds (top-1 >= 0.96, rel. L2 <= 0.05).
  double diff = 0, ref = 0;
  int64_t rows = 0, same = 0;
  for (const auto& p : g_->prompts) {
    const auto ours = prompt_logits(*bf16, p.ids);
    ASSERT_EQ(ours.size(), p.logits.size());
    for (size_t k = 0; k < ours.size(); ++k) {
      diff += double(ours[k] - p.logits[k]) * double(ours[k] - p.logits[k]);
      ref += double(p.logits[k]) * double(p.logits[k]);
    }
    for (size_t r = 0; r < p.ids.size(); ++r) {
      const float* a = ours.data() + r * g_->vocab;
      const float* b = p.logits.data() + r * g_->vocab;
      same += std::max_element(a, a + g_->vocab) - a == std::max_element(b, b + g_->vocab) - b;
      ++rows;
    }
  }
  const double rel = std::sqrt(diff / ref), top1 = double(same) / double(rows);
  std::printf("[precision] %s bf16 vs golden: top-1 %.3f rel-L2 %.2e over %ld rows\n", GetParam().c_str(), top1, rel,
              static_cast<long>(rows));
  EXPECT_GT(rel, 1e-6) << "bf16 path not taken (identical to float32)";
  EXPECT_LE(rel, 0.05);
  EXPECT_GE(top1, 0.96);
}

// Decode under BF16: the absorbed path runs scores and values over bf16
// latents (packed panels). Teacher-forced through the cache, against the
// golden gen_logits, with the same aggregate bounds.
TEST_P(PrecisionTest, Bf16AbsorbedDecodeStaysNearGolden) {
  if (!cpu::cpu_features().avx512_bf16) GTEST_SKIP() << "no AVX512_BF16: BF16 precision runs the exact kernels";
  const auto bf16 = load_model(g_->model_dir, ComputePrecision::BF16);
  double diff = 0, ref = 0;
  int64_t rows = 0, same = 0;
  for (const auto& p : g_->prompts) {
    PagedLatentCache cache = bf16->make_cache(16, 64);
    const SequenceId s = cache.add_sequence();
    const BatchEntry pre{s, p.ids, false};
    test::forward_reserved(*bf16, std::span<const BatchEntry>(&pre, 1), cache);
    for (size_t t = 1; t < p.gen_ids.size(); ++t) {
      const int32_t tok = p.gen_ids[t - 1];
      const BatchEntry step{s, std::span<const int32_t>(&tok, 1), false};
      const auto logits = test::forward_reserved(*bf16, std::span<const BatchEntry>(&step, 1), cache, ForwardOptions{AttentionPath::Absorbed});
      const float* want = p.gen_logits.data() + t * g_->vocab;
      for (int64_t k = 0; k < g_->vocab; ++k) {
        diff += double(logits[k] - want[k]) * double(logits[k] - want[k]);
        ref += double(want[k]) * double(want[k]);
      }
      same += std::max_element(logits.begin(), logits.end()) - logits.begin() ==
              std::max_element(want, want + g_->vocab) - want;
      ++rows;
    }
  }
  const double rel = std::sqrt(diff / ref), top1 = double(same) / double(rows);
  std::printf("[precision] %s bf16 absorbed decode vs golden: top-1 %.3f rel-L2 %.2e over %ld steps\n",
              GetParam().c_str(), top1, rel, static_cast<long>(rows));
  EXPECT_GT(rel, 1e-6) << "bf16 path not taken";
  EXPECT_LE(rel, 0.05);
  EXPECT_GE(top1, 0.96);
}

INSTANTIATE_TEST_SUITE_P(TinyCheckpoints, PrecisionTest, ::testing::Values("deepseek-r1-tiny", "kimi-k2-tiny"),
                         test::checkpoint_param_name);

}  // namespace
}  // namespace dsinfer
