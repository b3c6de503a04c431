// Sampler: greedy, temperature, top-k / top-p / min-p supports, penalties,
// seeding, logprobs and validation. Expected distributions are computed here
// from the definitions (in double) and compared with Pearson chi-square.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "io/error.h"

namespace dsinfer {
namespace {

// ---- statistics ------------------------------------------------------------

// Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a):
// series for P when x < a + 1, else a continued fraction (modified Lentz).
double gamma_q(double a, double x) {
  if (x <= 0.0) return 1.0;
  const double prefix = std::exp(a * std::log(x) - x - std::lgamma(a));
  if (x < a + 1.0) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 10000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
    }
    return 1.0 - sum * prefix;
  }
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < 1e-16) break;
  }
  return prefix * h;
}

double chi_square_p_value(double statistic, int dof) { return gamma_q(dof / 2.0, statistic / 2.0); }

// Pearson goodness of fit of `counts` to `probs` (sums to 1). Bins with an
// expected count under 5 are pooled. Tokens of probability 0 must never occur.
double chi_square_fit(const std::vector<int64_t>& counts, const std::vector<double>& probs) {
  const int64_t n = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  std::vector<std::pair<double, double>> bins;  // expected, observed
  double pooled_e = 0, pooled_o = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " is outside the support";
      continue;
    }
    const double e = probs[i] * static_cast<double>(n);
    if (e < 5.0) {
      pooled_e += e;
      pooled_o += static_cast<double>(counts[i]);
    } else {
      bins.push_back({e, static_cast<double>(counts[i])});
    }
  }
  if (pooled_e > 0) bins.push_back({pooled_e, pooled_o});
  if (bins.size() < 2) return 1.0;  // a single bin: nothing to test
  double stat = 0;
  for (const auto& [e, o] : bins) stat += (o - e) * (o - e) / e;
  return chi_square_p_value(stat, static_cast<int>(bins.size()) - 1);
}

// ---- reference distributions (double, from the definitions) ---------------

std::vector<double> softmax(const std::vector<float>& logits, double temperature = 1.0) {
  double m = -INFINITY;
  for (float l : logits) m = std::max(m, l / temperature);
  std::vector<double> p(logits.size());
  double s = 0;
  for (size_t i = 0; i < logits.size(); ++i) s += p[i] = std::exp(logits[i] / temperature - m);
  for (double& x : p) x /= s;
  return p;
}

std::vector<double> log_softmax(const std::vector<float>& logits) {
  double m = -INFINITY;
  for (float l : logits) m = std::max(m, static_cast<double>(l));
  double s = 0;
  for (float l : logits) s += std::exp(l - m);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - m - std::log(s);
  return out;
}

// Token ids by probability, most likely first (the test vectors have no ties).
std::vector<size_t> ranked(const std::vector<double>& p) {
  std::vector<size_t> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  return idx;
}

void renormalize(std::vector<double>& p) {
  const double s = std::accumulate(p.begin(), p.end(), 0.0);
  for (double& x : p) x /= s;
}

// temperature -> top_k -> softmax -> top_p -> min_p -> renormalize, written
// straight from the definitions.
std::vector<double> reference_distribution(const std::vector<float>& logits, double temperature, int64_t top_k,
                                           double top_p, double min_p) {
  const size_t n = logits.size();
  std::vector<double> p = softmax(logits, temperature);
  const std::vector<size_t> order = ranked(p);
  std::vector<bool> keep(n, true);
  if (top_k > 0)
    for (size_t r = static_cast<size_t>(top_k); r < n; ++r) keep[order[r]] = false;
  for (size_t i = 0; i < n; ++i)
    if (!keep[i]) p[i] = 0;
  renormalize(p);  // softmax over the top-k logits
  if (top_p < 1.0) {
    // Smallest most-likely-first prefix whose mass reaches top_p.
    double cum = 0;
    size_t r = 0;
    for (; r < n; ++r) {
      cum += p[order[r]];
      if (cum >= top_p) break;
    }
    for (size_t q = r + 1; q < n; ++q) p[order[q]] = 0;
  }
  const double p_max = *std::max_element(p.begin(), p.end());
  for (double& x : p)
    if (x < min_p * p_max) x = 0;
  renormalize(p);
  return p;
}

std::vector<int64_t> draw_counts(const SamplingParams& params, const std::vector<float>& logits, int n) {
  Sampler s(params);
  std::vector<int64_t> counts(logits.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(s.sample(logits.data(), std::ssize(logits)).token)];
  return counts;
}

std::set<int32_t> support_of(const std::vector<double>& p) {
  std::set<int32_t> s;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0) s.insert(static_cast<int32_t>(i));
  return s;
}

std::set<int32_t> drawn_of(const std::vector<int64_t>& counts) {
  std::set<int32_t> s;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] > 0) s.insert(static_cast<int32_t>(i));
  return s;
}

std::vector<float> random_logits(int64_t n, uint64_t seed, float scale = 3.f) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(g);
  return v;
}

// 12 distinct logits, no ties in any order used below.
const std::vector<float> kLogits = {1.2f, -0.3f, 0.5f, 2.0f, -1.5f, 0.0f, 0.9f, -0.7f, 1.6f, 0.2f, -2.2f, 0.7f};
constexpr int kDraws = 20000;
constexpr double kAlpha = 0.001;

// ---- 2 (the p-value function itself) ---------------------------------------

TEST(ChiSquare, PValueMatchesKnownValues) {
  // Textbook critical values.
  EXPECT_NEAR(chi_square_p_value(3.841, 1), 0.05, 2e-4);
  EXPECT_NEAR(chi_square_p_value(6.635, 1), 0.01, 1e-4);
  EXPECT_NEAR(chi_square_p_value(11.070, 5), 0.05, 2e-4);
  EXPECT_NEAR(chi_square_p_value(18.307, 10), 0.05, 2e-4);
  EXPECT_NEAR(chi_square_p_value(23.209, 10), 0.01, 1e-4);
  EXPECT_NEAR(chi_square_p_value(29.588, 10), 0.001, 2e-5);
  EXPECT_NEAR(chi_square_p_value(43.773, 30), 0.05, 2e-4);
  EXPECT_NEAR(chi_square_p_value(9.342, 10), 0.50, 2e-4);
  // Closed forms, both branches (x < a + 1 and beyond): 2 dof: e^(-x/2);
  // 1 dof: erfc(sqrt(x/2)).
  for (double x : {0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 80.0}) {
    EXPECT_NEAR(chi_square_p_value(x, 2), std::exp(-x / 2), 1e-12 + 1e-9 * std::exp(-x / 2)) << x;
    EXPECT_NEAR(chi_square_p_value(x, 1), std::erfc(std::sqrt(x / 2)), 1e-12 + 1e-9 * std::erfc(std::sqrt(x / 2)))
        << x;
  }
  EXPECT_DOUBLE_EQ(chi_square_p_value(0.0, 4), 1.0);
}

// ---- 1. greedy --------------------------------------------------------------

TEST(Sampler, GreedyIsArgmax) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const std::vector<float> logits = random_logits(1000 + static_cast<int64_t>(seed) * 37, seed);
    const auto expected = std::distance(logits.begin(), std::max_element(logits.begin(), logits.end()));
    Sampler s(SamplingParams{});
    ASSERT_TRUE(s.greedy());
    // Twice: with no penalties, recording the token changes nothing.
    EXPECT_EQ(s.sample(logits.data(), std::ssize(logits)).token, expected);
    EXPECT_EQ(s.sample(logits.data(), std::ssize(logits)).token, expected);
  }
}

TEST(Sampler, GreedyTiesGoToLowestId) {
  const std::vector<float> logits = {0.f, 3.f, -1.f, 3.f, 3.f, 2.f};
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.sample(logits.data(), 6).token, 1);
  const std::vector<float> flat(50, 0.25f);
  EXPECT_EQ(s.sample(flat.data(), 50).token, 0);
  // top_k / top_p / seed do not affect greedy decoding.
  SamplingParams p;
  p.top_k = 2;
  p.top_p = 0.1f;
  p.seed = 5;
  Sampler t(p);
  const std::vector<float> late = {0.f, 1.f, 5.f, 5.f};
  EXPECT_EQ(t.sample(late.data(), 4).token, 2);
}

// ---- 2. temperature -----------------------------------------------------------

TEST(Sampler, TemperatureMatchesSoftmaxOverT) {
  for (float t : {0.7f, 1.0f, 1.5f}) {
    SamplingParams p;
    p.temperature = t;
    p.seed = 12345;
    const auto counts = draw_counts(p, kLogits, kDraws);
    const double pv = chi_square_fit(counts, softmax(kLogits, t));
    EXPECT_GT(pv, kAlpha) << "T=" << t;
  }
}

// The same counts must be rejected against a wrong distribution (the test has power).
TEST(Sampler, ChiSquareRejectsWrongTemperature) {
  SamplingParams p;
  p.temperature = 0.7f;
  p.seed = 12345;
  const auto counts = draw_counts(p, kLogits, kDraws);
  EXPECT_LT(chi_square_fit(counts, softmax(kLogits, 0.8)), 1e-6);
  EXPECT_LT(chi_square_fit(counts, softmax(kLogits, 1.0 / 0.7)), 1e-6);
}

// Seeded draws follow the documented contract: mt19937_64 -> (x >> 11) * 2^-53
// -> inverse CDF over the tokens in id order.
TEST(Sampler, SeededDrawsFollowDocumentedRngContract) {
  SamplingParams p;
  p.temperature = 1.3f;
  p.seed = 777;
  Sampler s(p);
  std::mt19937_64 rng(777);
  const std::vector<double> probs = softmax(kLogits, 1.3f);
  for (int i = 0; i < 200; ++i) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    double cum = 0;
    int32_t expected = static_cast<int32_t>(probs.size()) - 1;
    for (size_t t = 0; t < probs.size(); ++t) {
      cum += probs[t];
      if (cum > u) {
        expected = static_cast<int32_t>(t);
        break;
      }
    }
    EXPECT_EQ(s.sample(kLogits.data(), std::ssize(kLogits)).token, expected) << "draw " << i << " u=" << u;
  }
}

// ---- 3. top_k / top_p / min_p ---------------------------------------------------

struct FilterCase {
  float temperature;
  int64_t top_k;
  float top_p;
  float min_p;
  size_t expected_support;  // sanity: the case exercises what it claims
};

class SamplerFilters : public ::testing::TestWithParam<FilterCase> {};

TEST_P(SamplerFilters, SupportAndFrequencies) {
  const FilterCase c = GetParam();
  SamplingParams p;
  p.temperature = c.temperature;
  p.top_k = c.top_k;
  p.top_p = c.top_p;
  p.min_p = c.min_p;
  p.seed = 4242;
  const std::vector<double> expected = reference_distribution(kLogits, c.temperature, c.top_k, c.top_p, c.min_p);
  ASSERT_EQ(support_of(expected).size(), c.expected_support);
  // Every keep/drop decision must have a clear margin, so the expected set
  // does not hinge on rounding.
  const std::vector<double> top_k_probs = reference_distribution(kLogits, c.temperature, c.top_k, 1.0, 0.0);
  const std::vector<size_t> order = ranked(top_k_probs);
  double cum = 0;
  for (size_t i : order) {
    cum += top_k_probs[i];
    if (c.top_p < 1.f) {
      ASSERT_GT(std::fabs(cum - c.top_p), 0.01);
    }
    if (c.min_p > 0.f && c.min_p < 1.f && top_k_probs[i] > 0) {
      ASSERT_GT(std::fabs(top_k_probs[i] / top_k_probs[order[0]] - c.min_p), 0.01);
    }
  }
  const auto counts = draw_counts(p, kLogits, kDraws);
  EXPECT_EQ(drawn_of(counts), support_of(expected));
  EXPECT_GT(chi_square_fit(counts, expected), kAlpha);
}

INSTANTIATE_TEST_SUITE_P(Cases, SamplerFilters,
                         ::testing::Values(FilterCase{1.0f, 4, 1.f, 0.f, 4},      // top_k only
                                           FilterCase{1.0f, 1, 1.f, 0.f, 1},      // top_k = 1 -> argmax
                                           FilterCase{1.0f, 12, 1.f, 0.f, 12},    // k == vocab: off
                                           FilterCase{1.0f, 50, 1.f, 0.f, 12},    // k > vocab: off
                                           FilterCase{1.0f, 0, 0.6f, 0.f, 3},     // top_p only
                                           FilterCase{1.0f, 0, 0.01f, 0.f, 1},    // top_p keeps at least one
                                           FilterCase{1.0f, 0, 0.2f, 0.f, 1},     // first token alone reaches 0.2
                                           FilterCase{1.0f, 0, 1.f, 0.2f, 6},     // min_p only
                                           FilterCase{1.0f, 0, 1.f, 1.0f, 1},     // min_p = 1 -> argmax
                                           FilterCase{1.5f, 8, 0.8f, 0.1f, 6},    // all three (top_p binds)
                                           FilterCase{0.7f, 6, 0.97f, 0.25f, 3},  // all three (min_p binds)
                                           FilterCase{1.5f, 5, 0.85f, 0.f, 4},    // top_p over the top-k mass
                                           // top_p before min_p: its mass is the full distribution's (min_p
                                           // first, then top_p over the renormalized rest, would keep 5).
                                           FilterCase{1.0f, 0, 0.8f, 0.12f, 6}));

// top_k keeps exactly the k best (ties at the cut -> lowest ids) whatever
// order the logits arrive in: ascending input makes every token displace the
// current worst, which the selection heap must track. A huge temperature makes
// the kept tokens near-uniform, so a few thousand draws hit every one of them.
TEST(SamplerFilters, TopKExactUnderAdversarialOrders) {
  const int n = 64;
  std::vector<std::vector<float>> inputs;
  std::vector<float> ascending(n);
  for (int i = 0; i < n; ++i) ascending[static_cast<size_t>(i)] = static_cast<float>(i) * 0.25f;
  inputs.push_back(ascending);
  inputs.push_back(std::vector<float>(ascending.rbegin(), ascending.rend()));
  std::vector<float> zigzag(n);
  for (int i = 0; i < n; ++i) zigzag[static_cast<size_t>(i)] = (i % 2 ? 1.f : -1.f) * static_cast<float>(i);
  inputs.push_back(zigzag);
  std::vector<float> ties(n);
  for (int i = 0; i < n; ++i) ties[static_cast<size_t>(i)] = static_cast<float>((i * 7) % 5);  // 5 values, many ties
  inputs.push_back(ties);
  inputs.push_back(random_logits(n, 5));
  for (size_t which = 0; which < inputs.size(); ++which) {
    const std::vector<float>& logits = inputs[which];
    std::vector<int32_t> ids(n);
    std::iota(ids.begin(), ids.end(), 0);
    std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {  // stable: lower id first among ties
      return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
    });
    for (int64_t k : {1, 2, 3, 7, 8, 9, 20, 63}) {
      SamplingParams p;
      p.temperature = 1e6f;
      p.top_k = k;
      p.seed = 17;
      Sampler s(p);
      std::set<int32_t> drawn;
      for (int i = 0; i < 3000; ++i) drawn.insert(s.sample(logits.data(), n).token);
      EXPECT_EQ(drawn, std::set<int32_t>(ids.begin(), ids.begin() + k)) << "input " << which << " k=" << k;
    }
  }
}

// A 129K vocabulary, through the fast paths (heap and nth_element top-k,
// pruned and chunked top-p sort). Each draw must be exactly the token the
// documented contract picks from the distribution computed here by full sorts:
// u from the same mt19937_64 stream, first token in id order whose cumulative
// probability exceeds u.
TEST(SamplerFilters, LargeVocabularyDrawsMatchReference) {
  const int64_t vocab = 129280;
  const std::vector<float> logits = random_logits(vocab, 99, 3.f);
  struct Case {
    float temperature;
    int64_t top_k;
    float top_p, min_p;
  };
  for (const Case c : {Case{1.f, 0, 0.9f, 0.f}, Case{1.f, 50, 1.f, 0.f}, Case{0.8f, 0, 1.f, 0.002f},
                       Case{1.2f, 200, 0.5f, 0.005f}, Case{1.f, 5000, 0.95f, 0.f}, Case{0.6f, 0, 1.f, 0.f}}) {
    const std::vector<double> expected = reference_distribution(logits, c.temperature, c.top_k, c.top_p, c.min_p);
    std::vector<double> cdf(expected.size());
    std::partial_sum(expected.begin(), expected.end(), cdf.begin());
    const std::set<int32_t> support = support_of(expected);
    SamplingParams p;
    p.temperature = c.temperature;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    p.seed = 31337;
    Sampler s(p);
    std::mt19937_64 rng(31337);
    std::set<int32_t> drawn;
    for (int i = 0; i < 100; ++i) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      auto want = static_cast<int32_t>(std::upper_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin());
      while (expected[static_cast<size_t>(want)] == 0) --want;  // u past the rounded total: last kept token
      const int32_t got = s.sample(logits.data(), vocab).token;
      ASSERT_EQ(got, want) << "draw " << i << " top_k=" << c.top_k << " top_p=" << c.top_p << " min_p=" << c.min_p;
      drawn.insert(got);
    }
    EXPECT_GE(drawn.size(), std::min<size_t>(support.size(), 10)) << "support " << support.size();
  }
}

// ---- 4. penalties -------------------------------------------------------------------

int32_t greedy_next(Sampler& s, const std::vector<float>& logits) {
  return s.sample(logits.data(), std::ssize(logits)).token;
}

TEST(SamplerPenalties, RepetitionPenaltyFlipsArgmaxExactlyWhenDefinitionSays) {
  // Positive logit: 2.0 / rp vs 1.8 -> flips iff rp > 2.0 / 1.8 = 1.111.
  const std::vector<float> pos = {2.0f, 1.8f, -1.0f};
  const std::vector<int32_t> prompt = {0};
  for (float rp : {1.05f, 1.10f, 1.12f, 1.5f}) {
    SamplingParams p;
    p.repetition_penalty = rp;
    Sampler s(p, prompt);
    EXPECT_EQ(greedy_next(s, pos), 2.0f / rp > 1.8f ? 0 : 1) << rp;
  }
  // Negative logit: -1.0 * rp vs -1.1 -> flips iff rp > 1.1.
  const std::vector<float> neg = {-1.0f, -1.1f, -3.0f};
  for (float rp : {1.05f, 1.08f, 1.12f, 2.0f}) {
    SamplingParams p;
    p.repetition_penalty = rp;
    Sampler s(p, prompt);
    EXPECT_EQ(greedy_next(s, neg), -1.0f * rp > -1.1f ? 0 : 1) << rp;
  }
  // rp < 1 encourages: a penalized logit of -1.2 * 0.5 = -0.6 beats -1.0.
  {
    SamplingParams p;
    p.repetition_penalty = 0.5f;
    const std::vector<int32_t> pr = {2};
    Sampler s(p, pr);
    EXPECT_EQ(greedy_next(s, std::vector<float>{-1.0f, -5.0f, -1.2f}), 2);
  }
}

TEST(SamplerPenalties, RepetitionPenaltyCoversGeneratedTokensOncePerToken) {
  SamplingParams p;
  p.repetition_penalty = 1.2f;
  // Generated: 2.0 first, then 2.0 / 1.2 = 1.667 < 1.8 -> token 1.
  {
    Sampler s(p);
    const std::vector<float> l = {2.0f, 1.8f};
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 1);
  }
  // Applied once however often the token occurs: 2.0 / 1.2 = 1.667 > 1.5
  // (three applications would give 1.157 and flip).
  {
    const std::vector<int32_t> prompt = {0, 0, 0};
    Sampler s(p, prompt);
    const std::vector<float> l = {2.0f, 1.5f};
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 0);  // now in prompt and generated: still once
  }
}

TEST(SamplerPenalties, PresenceAndFrequencyPenalties) {
  const std::vector<float> l = {1.0f, 0.7f, -2.0f};
  // presence 0.2: 1.0 -> 0.8 after the first draw and stays 0.8 (count-independent).
  {
    SamplingParams p;
    p.presence_penalty = 0.2f;
    Sampler s(p);
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 0);
  }
  // presence 0.5: 1.0 -> 0.5 < 0.7, then 0.7 -> 0.2 < 0.5: alternates.
  {
    SamplingParams p;
    p.presence_penalty = 0.5f;
    Sampler s(p);
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 1);
    EXPECT_EQ(greedy_next(s, l), 0);  // 0.5 vs 0.2
  }
  // frequency 0.2: 1.0, 0.8 (> 0.7), 0.6 (< 0.7) -> 0, 0, 1; then 0.6 vs 0.5 -> 0.
  {
    SamplingParams p;
    p.frequency_penalty = 0.2f;
    Sampler s(p);
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 0);
    EXPECT_EQ(greedy_next(s, l), 1);
    EXPECT_EQ(greedy_next(s, l), 0);
  }
  // Presence / frequency ignore the prompt.
  {
    SamplingParams p;
    p.presence_penalty = 2.0f;
    p.frequency_penalty = 2.0f;
    const std::vector<int32_t> prompt = {0, 0};
    Sampler s(p, prompt);
    EXPECT_EQ(greedy_next(s, l), 0);
  }
  // Negative values encourage repeats: 0.7 + 0.5 beats 1.0 after one draw of token 1.
  {
    SamplingParams p;
    p.frequency_penalty = -0.5f;
    Sampler s(p);
    EXPECT_EQ(greedy_next(s, std::vector<float>{-INFINITY, 0.7f, -INFINITY}), 1);
    EXPECT_EQ(greedy_next(s, l), 1);
  }
}

// All three penalties with sampling: the next-token distribution after a known
// history matches the definition (fresh sampler per draw, so the history is fixed).
TEST(SamplerPenalties, PenalizedDistributionMatchesDefinition) {
  const std::vector<int32_t> prompt = {1, 5, 5};
  const std::vector<int32_t> history = {2, 2, 2, 7, 1};
  const float rp = 1.3f, presence = 0.4f, frequency = 0.25f, temperature = 1.0f;

  std::vector<float> penalized = kLogits;
  std::map<int32_t, int> count;
  for (int32_t t : history) ++count[t];
  std::set<int32_t> seen(prompt.begin(), prompt.end());
  seen.insert(history.begin(), history.end());
  for (int32_t t : seen) {
    float& x = penalized[static_cast<size_t>(t)];
    x = x > 0 ? x / rp : x * rp;
  }
  for (const auto& [t, c] : count) penalized[static_cast<size_t>(t)] -= frequency * c + presence;
  const std::vector<double> expected = softmax(penalized, temperature);

  SamplingParams p;
  p.temperature = temperature;
  p.repetition_penalty = rp;
  p.presence_penalty = presence;
  p.frequency_penalty = frequency;
  std::vector<int64_t> counts(kLogits.size(), 0);
  std::vector<float> forced(kLogits.size());
  for (int i = 0; i < kDraws; ++i) {
    p.seed = 900000 + static_cast<uint64_t>(i);
    Sampler s(p, prompt);
    for (int32_t t : history) {
      std::fill(forced.begin(), forced.end(), -INFINITY);
      forced[static_cast<size_t>(t)] = 0.f;
      ASSERT_EQ(s.sample(forced.data(), std::ssize(forced)).token, t);
    }
    ++counts[static_cast<size_t>(s.sample(kLogits.data(), std::ssize(kLogits)).token)];
  }
  EXPECT_GT(chi_square_fit(counts, expected), kAlpha);
  // And the unpenalized distribution is clearly rejected (the penalties matter).
  EXPECT_LT(chi_square_fit(counts, softmax(kLogits, temperature)), 1e-6);
}

TEST(SamplerPenalties, CallerLogitsAreNotModified) {
  SamplingParams p;
  p.repetition_penalty = 2.f;
  p.frequency_penalty = 1.f;
  const std::vector<int32_t> prompt = {0, 1};
  Sampler s(p, prompt);
  std::vector<float> l = {3.f, -2.f, 1.f};
  const std::vector<float> before = l;
  s.sample(l.data(), 3);
  s.sample(l.data(), 3);
  EXPECT_EQ(l, before);
}

// ---- 5. seeding ---------------------------------------------------------------------

std::vector<int32_t> run(Sampler& s, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(kLogits.data(), std::ssize(kLogits)).token);
  return out;
}

SamplingParams seeded(uint64_t seed) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.frequency_penalty = 0.3f;  // history-dependent, so per-sequence state matters too
  p.seed = seed;
  return p;
}

TEST(SamplerSeed, SameSeedSameSequenceDifferentSeedDifferent) {
  Sampler a(seeded(1)), b(seeded(1)), c(seeded(2));
  const auto sa = run(a, 50), sb = run(b, 50), sc = run(c, 50);
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
  EXPECT_GT(std::set<int32_t>(sa.begin(), sa.end()).size(), 3u);  // actually random
}

TEST(SamplerSeed, InterleavedSamplersKeepIndependentStreams) {
  std::vector<int32_t> alone_a, alone_b;
  {
    Sampler a(seeded(11)), b(seeded(22));
    alone_a = run(a, 50);
    alone_b = run(b, 50);
  }
  Sampler a(seeded(11)), b(seeded(22));
  std::vector<int32_t> inter_a, inter_b;
  for (int i = 0; i < 50; ++i) {
    inter_a.push_back(a.sample(kLogits.data(), std::ssize(kLogits)).token);
    inter_b.push_back(b.sample(kLogits.data(), std::ssize(kLogits)).token);
  }
  EXPECT_EQ(inter_a, alone_a);
  EXPECT_EQ(inter_b, alone_b);
  EXPECT_NE(alone_a, alone_b);
}

TEST(SamplerSeed, UnseededSamplersDiffer) {
  SamplingParams p;
  p.temperature = 1.0f;
  Sampler a(p), b(p);
  EXPECT_NE(run(a, 50), run(b, 50));
}

// ---- 6. logprobs ----------------------------------------------------------------------

TEST(SamplerLogprobs, RawLogSoftmaxAndTopAlternatives) {
  const std::vector<float> logits = random_logits(5000, 7, 4.f);
  const std::vector<double> ref = log_softmax(logits);
  std::vector<size_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ref[a] > ref[b]; });

  SamplingParams p;
  p.temperature = 0.8f;
  p.top_k = 40;
  p.repetition_penalty = 1.5f;  // must not leak into the reported logprobs
  p.presence_penalty = 1.f;
  p.logprobs = true;
  p.top_logprobs = 5;
  p.seed = 3;
  const std::vector<int32_t> prompt = {static_cast<int32_t>(order[0]), static_cast<int32_t>(order[1])};
  Sampler s(p, prompt);
  for (int step = 0; step < 20; ++step) {
    const SampledToken t = s.sample(logits.data(), std::ssize(logits));
    EXPECT_NEAR(t.logprob, ref[static_cast<size_t>(t.token)], 1e-5);
    ASSERT_EQ(t.top_logprobs.size(), 5u);
    for (size_t r = 0; r < 5; ++r) {
      EXPECT_EQ(t.top_logprobs[r].token, static_cast<int32_t>(order[r])) << r;
      EXPECT_NEAR(t.top_logprobs[r].logprob, ref[order[r]], 1e-5) << r;
    }
  }
}

TEST(SamplerLogprobs, GreedyTopLogprobsOnlyAndClampedToVocab) {
  const std::vector<float> logits = {0.5f, -1.f, 2.f, 0.25f};
  const std::vector<double> ref = log_softmax(logits);
  SamplingParams p;
  p.top_logprobs = 20;  // more than the vocabulary: all 4, most likely first
  Sampler s(p);
  const SampledToken t = s.sample(logits.data(), 4);
  EXPECT_EQ(t.token, 2);
  EXPECT_NEAR(t.logprob, ref[2], 1e-5);  // top_logprobs > 0 implies the chosen logprob
  ASSERT_EQ(t.top_logprobs.size(), 4u);
  const int32_t want[] = {2, 0, 3, 1};
  for (size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(t.top_logprobs[r].token, want[r]);
    EXPECT_NEAR(t.top_logprobs[r].logprob, ref[static_cast<size_t>(want[r])], 1e-5);
  }
}

TEST(SamplerLogprobs, NotReportedUnlessAsked) {
  SamplingParams p;
  p.temperature = 1.f;
  p.seed = 1;
  Sampler s(p);
  const SampledToken t = s.sample(kLogits.data(), std::ssize(kLogits));
  EXPECT_EQ(t.logprob, 0.f);
  EXPECT_TRUE(t.top_logprobs.empty());
}

// ---- 7. validation ------------------------------------------------------------------------

void expect_rejected(const SamplingParams& p, const std::string& message) {
  try {
    validate(p);
    ADD_FAILURE() << "accepted; expected: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
  EXPECT_THROW(Sampler{p}, Error);
}

TEST(SamplerValidate, RejectsOutOfRangeWithFieldName) {
  auto with = [](auto set) {
    SamplingParams p;
    set(p);
    return p;
  };
  expect_rejected(with([](SamplingParams& p) { p.temperature = -1.f; }), "temperature must be >= 0, got -1");
  expect_rejected(with([](SamplingParams& p) { p.temperature = NAN; }), "temperature must be >= 0, got nan");
  expect_rejected(with([](SamplingParams& p) { p.top_p = 0.f; }), "top_p must be in (0, 1], got 0");
  expect_rejected(with([](SamplingParams& p) { p.top_p = 1.5f; }), "top_p must be in (0, 1], got 1.5");
  expect_rejected(with([](SamplingParams& p) { p.min_p = -0.5f; }), "min_p must be in [0, 1], got -0.5");
  expect_rejected(with([](SamplingParams& p) { p.min_p = 2.f; }), "min_p must be in [0, 1], got 2");
  expect_rejected(with([](SamplingParams& p) { p.repetition_penalty = 0.f; }),
                  "repetition_penalty must be > 0, got 0");
  expect_rejected(with([](SamplingParams& p) { p.presence_penalty = 2.5f; }),
                  "presence_penalty must be in [-2, 2], got 2.5");
  expect_rejected(with([](SamplingParams& p) { p.frequency_penalty = -3.f; }),
                  "frequency_penalty must be in [-2, 2], got -3");
  expect_rejected(with([](SamplingParams& p) { p.top_logprobs = 21; }), "top_logprobs must be in [0, 20], got 21");
  expect_rejected(with([](SamplingParams& p) { p.top_logprobs = -1; }), "top_logprobs must be in [0, 20], got -1");
}

TEST(SamplerValidate, AcceptsBoundaryValues) {
  SamplingParams p;
  p.temperature = 0.f;
  p.top_k = -1;  // <= 0: off
  p.top_p = 1.f;
  p.min_p = 1.f;
  p.repetition_penalty = 0.01f;
  p.presence_penalty = -2.f;
  p.frequency_penalty = 2.f;
  p.top_logprobs = 20;
  EXPECT_NO_THROW(validate(p));
  p.top_p = 1e-6f;
  p.min_p = 0.f;
  EXPECT_NO_THROW(validate(p));
}

TEST(SamplerValidate, SampleRejectsBadInputs) {
  SamplingParams p;
  p.temperature = 1.f;
  p.seed = 1;
  Sampler s(p);
  EXPECT_THROW(s.sample(kLogits.data(), 0), Error);
  EXPECT_THROW(s.sample(nullptr, 12), Error);
  const std::vector<float> masked(8, -INFINITY);
  EXPECT_THROW(s.sample(masked.data(), 8), Error);
  std::vector<float> with_nan = kLogits;
  with_nan[3] = NAN;
  EXPECT_THROW(s.sample(with_nan.data(), std::ssize(with_nan)), Error);
}

}  // namespace
}  // namespace dsinfer
