// The engine against Hugging Face transformers' float32 outputs on the tiny
// FP8 checkpoints: prompt logits, teacher-forced KV-cache decode, greedy ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "runtime/load_model.h"
#include "support/reserved_forward.h"
#include "runtime/generation.h"
#include "support/golden_fixture.h"

namespace dsinfer {
namespace {

constexpr double kTol = 1e-3;


using GoldenTest = test::GoldenModelTest;

TEST_P(GoldenTest, PromptLogitsMatchEveryPosition) {
  for (size_t i = 0; i < g_->prompts.size(); ++i) {
    const auto& p = g_->prompts[i];
    const auto logits = prompt_logits(*model_, p.ids);
    ASSERT_EQ(logits.size(), p.logits.size());
    const float d = test::max_abs_diff(logits.data(), p.logits.data(), static_cast<int64_t>(logits.size()));
    EXPECT_LE(d, kTol) << GetParam() << " prompt " << i << " (len " << p.ids.size() << ")";
    std::printf("[golden] %s p%zu len %zu: max|logit diff| = %.3g\n", GetParam().c_str(), i, p.ids.size(), d);
  }
}

// Feed prompt + gen_ids[:-1] one token per step through the cache and compare
// each step's distribution with gen_logits.
void check_teacher_forced(const DeepseekModel& model, const test::Golden& g, AttentionPath path,
                          const std::string& name) {
  for (size_t i = 0; i < g.prompts.size(); ++i) {
    const auto& p = g.prompts[i];
    PagedLatentCache cache = model.make_cache(16, 64);  // small pages: spans many pages
    const SequenceId s = cache.add_sequence();
    BatchEntry pre{s, p.ids, false};
    auto logits = test::forward_reserved(model, std::span<const BatchEntry>(&pre, 1), cache);
    float worst = test::max_abs_diff(logits.data(), p.gen_logits.data(), g.vocab);
    for (size_t t = 1; t < p.gen_ids.size(); ++t) {
      const int32_t tok = p.gen_ids[t - 1];
      BatchEntry step{s, std::span<const int32_t>(&tok, 1), false};
      logits = test::forward_reserved(model, std::span<const BatchEntry>(&step, 1), cache, ForwardOptions{path});
      worst = std::max(worst, test::max_abs_diff(logits.data(), p.gen_logits.data() + t * g.vocab, g.vocab));
    }
    EXPECT_LE(worst, kTol) << name << " prompt " << i;
    std::printf("[golden] %s p%zu teacher-forced decode (%s): max diff %.3g\n", name.c_str(), i,
                path == AttentionPath::Absorbed ? "absorbed" : "expanded", worst);
  }
}

TEST_P(GoldenTest, TeacherForcedDecodeAbsorbedMatchesGenLogits) {
  check_teacher_forced(*model_, *g_, AttentionPath::Absorbed, GetParam());
}

TEST_P(GoldenTest, TeacherForcedDecodeExpandedMatchesGenLogits) {
  check_teacher_forced(*model_, *g_, AttentionPath::Expanded, GetParam());
}

// Greedy ids must match up to the first step where the golden top-1/top-2
// margin is too small (< 0.05) for the choice to be meaningful.
TEST_P(GoldenTest, GreedyGenerationReproducesGenIds) {
  for (size_t i = 0; i < g_->prompts.size(); ++i) {
    const auto& p = g_->prompts[i];
    size_t checked = p.gen_ids.size();
    for (size_t t = 0; t < p.gen_ids.size(); ++t) {
      std::vector<float> row(p.gen_logits.begin() + t * g_->vocab, p.gen_logits.begin() + (t + 1) * g_->vocab);
      std::partial_sort(row.begin(), row.begin() + 2, row.end(), std::greater<float>());
      if (row[0] - row[1] < 0.05) {
        checked = t;
        break;
      }
    }
    GenerationRequest req{p.ids, static_cast<int64_t>(p.gen_ids.size()), false};
    const auto out = generate(*model_, {req});
    ASSERT_EQ(out[0].generated.size(), p.gen_ids.size());
    for (size_t t = 0; t < checked; ++t)
      ASSERT_EQ(out[0].generated[t], p.gen_ids[t]) << GetParam() << " prompt " << i << " step " << t;
    std::printf("[golden] %s p%zu greedy ids match on %zu/%zu steps (margin cut-off)\n", GetParam().c_str(), i, checked,
                p.gen_ids.size());
  }
}

INSTANTIATE_TEST_SUITE_P(TinyCheckpoints, GoldenTest, ::testing::Values("deepseek-r1-tiny", "kimi-k2-tiny"), test::checkpoint_param_name);

}  // namespace
}  // namespace dsinfer
