// Batched forward passes (several sequences of different lengths packed
// together) must equal running each sequence alone; the absorbed (latent)
// and expanded MLA formulations must agree.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/load_model.h"
#include "support/reserved_forward.h"
#include "runtime/generation.h"
#include "support/golden_fixture.h"

namespace dsinfer {
namespace {


using BatchingTest = test::GoldenModelTest;

// All golden prompts in one prefill, then teacher-forced decode steps for all
// of them in one batch, versus one sequence at a time.
TEST_P(BatchingTest, BatchedEqualsOneAtATime) {
  const auto& ps = g_->prompts;
  const int64_t V = g_->vocab;
  PagedLatentCache cache = model_->make_cache(32, 256);
  std::vector<SequenceId> seqs;
  std::vector<BatchEntry> batch;
  for (const auto& p : ps) {
    seqs.push_back(cache.add_sequence());
    batch.push_back({seqs.back(), p.ids, true});
  }
  const auto batched_prefill = test::forward_reserved(*model_, batch, cache);
  constexpr int kSteps = 6;
  std::vector<std::vector<float>> batched_steps;
  for (int t = 0; t < kSteps; ++t) {
    batch.clear();
    for (size_t i = 0; i < ps.size(); ++i) batch.push_back({seqs[i], std::span<const int32_t>(&ps[i].gen_ids[t], 1), false});
    batched_steps.push_back(test::forward_reserved(*model_, batch, cache));
  }

  int64_t row = 0;
  float worst = 0.f;
  for (size_t i = 0; i < ps.size(); ++i) {
    PagedLatentCache solo = model_->make_cache(32, 64);
    const SequenceId s = solo.add_sequence();
    BatchEntry e{s, ps[i].ids, true};
    const auto single = test::forward_reserved(*model_, std::span<const BatchEntry>(&e, 1), solo);
    const int64_t n = static_cast<int64_t>(ps[i].ids.size());
    std::vector<float> part(batched_prefill.begin() + row * V, batched_prefill.begin() + (row + n) * V);
    worst = std::max(worst, test::max_abs_diff(part, single));
    row += n;
    for (int t = 0; t < kSteps; ++t) {
      BatchEntry d{s, std::span<const int32_t>(&ps[i].gen_ids[t], 1), false};
      const auto one = test::forward_reserved(*model_, std::span<const BatchEntry>(&d, 1), solo);
      std::vector<float> bpart(batched_steps[t].begin() + i * V, batched_steps[t].begin() + (i + 1) * V);
      worst = std::max(worst, test::max_abs_diff(bpart, one));
    }
  }
  std::printf("[batching] %s: max |batched - single| = %.3g\n", GetParam().c_str(), worst);
  EXPECT_LE(worst, 1e-4);
}

// Mixed batch: one sequence prefilling while others decode.
TEST_P(BatchingTest, MixedPrefillAndDecodeBatch) {
  const auto& ps = g_->prompts;
  const int64_t V = g_->vocab;
  PagedLatentCache cache = model_->make_cache(16, 256);
  const SequenceId a = cache.add_sequence(), b = cache.add_sequence();
  BatchEntry pa{a, ps[0].ids, false};
  test::forward_reserved(*model_, std::span<const BatchEntry>(&pa, 1), cache);
  std::vector<BatchEntry> mixed{{a, std::span<const int32_t>(&ps[0].gen_ids[0], 1), false}, {b, ps[1].ids, false}};
  const auto out = test::forward_reserved(*model_, mixed, cache);
  // Reference: gen_logits[1] of prompt 0 and the last prompt position of prompt 1.
  std::vector<float> ref0(ps[0].gen_logits.begin() + V, ps[0].gen_logits.begin() + 2 * V);
  std::vector<float> ref1(ps[1].gen_logits.begin(), ps[1].gen_logits.begin() + V);
  EXPECT_LE(test::max_abs_diff(std::vector<float>(out.begin(), out.begin() + V), ref0), 1e-3);
  EXPECT_LE(test::max_abs_diff(std::vector<float>(out.begin() + V, out.end()), ref1), 1e-3);
}

// Same decode steps through both attention formulations.
TEST_P(BatchingTest, AbsorbedAndExpandedAgree) {
  float worst = 0.f;
  for (const auto& p : g_->prompts) {
    std::vector<float> outs[2];
    const AttentionPath paths[2] = {AttentionPath::Absorbed, AttentionPath::Expanded};
    for (int k = 0; k < 2; ++k) {
      PagedLatentCache cache = model_->make_cache(64, 64);
      const SequenceId s = cache.add_sequence();
      BatchEntry e{s, p.ids, true};
      // Prefill through the chosen path too (absorbed prefill is legal, just slower).
      outs[k] = test::forward_reserved(*model_, std::span<const BatchEntry>(&e, 1), cache, ForwardOptions{paths[k]});
      for (int t = 0; t < 4; ++t) {
        BatchEntry d{s, std::span<const int32_t>(&p.gen_ids[t], 1), false};
        const auto l = test::forward_reserved(*model_, std::span<const BatchEntry>(&d, 1), cache, ForwardOptions{paths[k]});
        outs[k].insert(outs[k].end(), l.begin(), l.end());
      }
    }
    worst = std::max(worst, test::max_abs_diff(outs[0], outs[1]));
  }
  std::printf("[mla] %s: max |absorbed - expanded| = %.3g\n", GetParam().c_str(), worst);
  EXPECT_LE(worst, 1e-4);
}

// Page size must not change results (sequences span several pages).
TEST_P(BatchingTest, PageSizeDoesNotChangeResults) {
  const auto& p = g_->prompts.back();
  std::vector<float> outs[2];
  const int64_t sizes[2] = {1, 128};
  for (int k = 0; k < 2; ++k) {
    GenerationOptions o;
    o.page_size = sizes[k];
    outs[k] = prompt_logits(*model_, p.ids, o);
  }
  EXPECT_LE(test::max_abs_diff(outs[0], outs[1]), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(TinyCheckpoints, BatchingTest, ::testing::Values("deepseek-r1-tiny", "kimi-k2-tiny"), test::checkpoint_param_name);

}  // namespace
}  // namespace dsinfer
