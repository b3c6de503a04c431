// The speculative-sampling rule on fixed logits: tokens emitted with drafts
// from a different distribution q are distributed as the target p alone
// (chi-square over 20,000 seeded trials), and greedy keeps a draft iff it
// is the target's argmax.
#include "runtime/speculative_sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace dsinfer {
namespace {

constexpr int64_t kVocab = 8;
// chi-square critical value for 7 degrees of freedom at p = 0.001.
constexpr double kChi2Critical = 24.322;

double chi_square(const std::vector<int64_t>& counts, const std::vector<float>& p) {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  double x = 0;
  for (size_t v = 0; v < counts.size(); ++v) {
    const double e = p[v] * static_cast<double>(n);
    x += (static_cast<double>(counts[v]) - e) * (static_cast<double>(counts[v]) - e) / e;
  }
  return x;
}

std::vector<float> softmax(const std::vector<float>& l) {
  std::vector<float> p(l.size());
  double s = 0;
  for (float x : l) s += std::exp(static_cast<double>(x));
  for (size_t i = 0; i < l.size(); ++i) p[i] = static_cast<float>(std::exp(static_cast<double>(l[i])) / s);
  return p;
}

TEST(SpeculativeSampling, EmittedTokensFollowTheTargetDistribution) {
  const std::vector<float> target{1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.0f, 0.7f, 1.5f};  // p
  const std::vector<float> draft{2.5f, 0.0f, 0.0f, -1.0f, 1.0f, 0.5f, -2.0f, 0.3f};   // q, far from p
  const std::vector<float> p = softmax(target);
  for (int64_t k : {1, 2, 3}) {
    std::vector<float> rows;
    for (int64_t j = 0; j <= k; ++j) rows.insert(rows.end(), target.begin(), target.end());
    std::vector<std::vector<int64_t>> counts(static_cast<size_t>(k + 1), std::vector<int64_t>(kVocab, 0));
    int64_t accepted = 0;
    for (int trial = 0; trial < 20000; ++trial) {
      SamplingParams sp;
      sp.temperature = 1.f;
      sp.seed = static_cast<uint64_t>(trial) * 7919 + static_cast<uint64_t>(k);
      Sampler s(sp);
      std::vector<Draft> drafts;
      for (int64_t j = 0; j < k; ++j) drafts.push_back(draw_draft(s, draft.data(), kVocab));
      int64_t pos = 0;
      accepted += verify_drafts(s, drafts, rows.data(), kVocab, [&](const SampledToken& t) {
        ++counts[static_cast<size_t>(pos++)][static_cast<size_t>(t.token)];
        return true;
      });
    }
    // Every emitted position (the first always exists) is distributed as p.
    const double x0 = chi_square(counts[0], p);
    EXPECT_LT(x0, kChi2Critical) << "k=" << k << " first token";
    const double x1 = chi_square(counts[1], p);
    EXPECT_LT(x1, kChi2Critical) << "k=" << k << " second token";
    std::printf("[speculative sampling] k=%lld: chi2 first %.2f, second %.2f (critical %.2f), %.2f accepted per step\n",
                static_cast<long long>(k), x0, x1, kChi2Critical, static_cast<double>(accepted) / 20000.0);
  }
}

// The test can fail: emitting drafts unconditionally gives q, not p.
TEST(SpeculativeSampling, TheChiSquareSeesADifferentDistribution) {
  const std::vector<float> target{1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.0f, 0.7f, 1.5f};
  const std::vector<float> draft{2.5f, 0.0f, 0.0f, -1.0f, 1.0f, 0.5f, -2.0f, 0.3f};
  std::vector<int64_t> counts(kVocab, 0);
  for (int trial = 0; trial < 20000; ++trial) {
    SamplingParams sp;
    sp.temperature = 1.f;
    sp.seed = static_cast<uint64_t>(trial);
    Sampler s(sp);
    ++counts[static_cast<size_t>(draw_draft(s, draft.data(), kVocab).token)];
  }
  EXPECT_GT(chi_square(counts, softmax(target)), kChi2Critical);
}

TEST(SpeculativeSampling, GreedyKeepsADraftIffItIsTheArgmax) {
  const std::vector<float> rows{0.f, 3.f, 1.f, 0.f, 0.f, 0.f, 0.f, 0.f,   // argmax 1
                                0.f, 0.f, 0.f, 0.f, 5.f, 0.f, 0.f, 0.f};  // argmax 4
  Sampler s(SamplingParams{});
  std::vector<Draft> drafts{draw_draft(s, rows.data(), kVocab)};
  EXPECT_EQ(drafts[0].token, 1);
  std::vector<int32_t> out;
  EXPECT_EQ(verify_drafts(s, drafts, rows.data(), kVocab, [&](const SampledToken& t) { out.push_back(t.token); return true; }), 1);
  EXPECT_EQ(out, (std::vector<int32_t>{1, 4}));
  drafts[0] = draw_draft(s, rows.data() + kVocab, kVocab);  // proposes 4 where the target says 1
  out.clear();
  EXPECT_EQ(verify_drafts(s, drafts, rows.data(), kVocab, [&](const SampledToken& t) { out.push_back(t.token); return true; }), 0);
  EXPECT_EQ(out, (std::vector<int32_t>{1}));
}

}  // namespace
}  // namespace dsinfer
