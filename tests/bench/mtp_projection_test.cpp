// The MTP projection's arithmetic on hand-made case timings, and the bench
// command printing it from measured cases.
#include "bench/mtp_projection.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace dsinfer::bench {
namespace {

CaseResult measured(int64_t new_tokens, double total_ms, double head_ms) {
  CaseResult r;
  r.spec = {CasePhase::Decode, 1, 1024, 0, new_tokens};
  r.time_ms = total_ms;
  r.phases = {{"attention", total_ms - head_ms, 0, 0}, {"lm_head", head_ms, 0, 0}};
  return r;
}

TEST(MtpProjection, FollowsTheDocumentedFormula) {
  // 2 measured layers: t_layer(1) = 4 ms, t_layer(2) = 5 ms; lm_head 3 / 3.5 ms.
  const std::vector<CaseResult> cases{measured(1, 11.0, 3.0), measured(2, 13.5, 3.5)};
  const auto p = project_mtp(cases, 2, 7168, 129280);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_DOUBLE_EQ(p[0].decode_ms, 61 * 4.0 + 3.0);
  EXPECT_DOUBLE_EQ(p[0].verify_ms, 61 * 5.0 + 3.5);
  const double eh = 3.0 * 2 * 7168 / 129280.0;
  EXPECT_DOUBLE_EQ(p[0].drafts_ms, 4.0 + 3.0 + eh);
  const double step = p[0].verify_ms + p[0].drafts_ms;
  EXPECT_DOUBLE_EQ(p[0].speedup_at_100, 2 * p[0].decode_ms / step);
  EXPECT_DOUBLE_EQ(p[0].speedup_at_70, 1.7 * p[0].decode_ms / step);
  EXPECT_DOUBLE_EQ(p[0].speedup_at_0, p[0].decode_ms / step);
  // A verify case without its plain decode case projects nothing.
  EXPECT_TRUE(project_mtp({cases[1]}, 2, 7168, 129280).empty());
}

TEST(MtpProjection, BenchCommandPrintsItFromMeasuredCases) {
  const auto r = test::run_dsinfer(
      "bench --synthetic tiny --layers 1 --weights bf16 --mtp --quick --batches 1 --contexts 64 --prefill 0");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("MTP projection to R1"), std::string::npos) << r.output;
  for (const char* label : {"verify+1", "verify+2", "verify+3"}) EXPECT_NE(r.output.find(label), std::string::npos);
}

}  // namespace
}  // namespace dsinfer::bench
