#include "runtime/speculative_sampling.h"

#include <algorithm>

namespace dsinfer {

Draft draw_draft(Sampler& sampler, const float* logits, int64_t vocab) {
  Draft d;
  sampler.distribution(logits, vocab, d.q);
  d.token = sampler.draw_from(d.q);
  return d;
}

int64_t verify_drafts(Sampler& sampler, std::span<const Draft> drafts, const float* target, int64_t vocab,
                      const std::function<bool(const SampledToken&)>& emit) {
  std::vector<float> p;
  const auto n = static_cast<int64_t>(drafts.size());
  for (int64_t j = 0; j < n; ++j) {
    const float* row = target + j * vocab;
    sampler.distribution(row, vocab, p);
    const Draft& d = drafts[static_cast<size_t>(j)];
    const double pd = p[static_cast<size_t>(d.token)], qd = d.q[static_cast<size_t>(d.token)];
    // u < p/q without dividing; q(d) > 0 since d was drawn from q.
    if (sampler.uniform() * qd < pd) {
      if (!emit(sampler.record(d.token, row, vocab))) return j + 1;
      continue;
    }
    std::vector<float> residual(p.size());
    double mass = 0;
    for (size_t v = 0; v < p.size(); ++v) mass += residual[v] = std::max(0.f, p[v] - d.q[v]);
    // No residual mass only when p == q up to rounding: then p itself.
    emit(sampler.record(sampler.draw_from(mass > 0 ? residual : p), row, vocab));
    return j;
  }
  const float* row = target + n * vocab;
  sampler.distribution(row, vocab, p);
  emit(sampler.record(sampler.draw_from(p), row, vocab));
  return n;
}

int64_t verify_drafts_forced(Sampler& sampler, std::span<const Draft> drafts, const float* target, int64_t vocab,
                             double rate, const std::function<bool(const SampledToken&)>& emit) {
  std::vector<float> p;
  const auto n = static_cast<int64_t>(drafts.size());
  for (int64_t j = 0; j <= n; ++j) {
    const float* row = target + j * vocab;
    if (j < n && sampler.uniform() < rate) {
      if (!emit(sampler.record(drafts[static_cast<size_t>(j)].token, row, vocab))) return j + 1;
      continue;
    }
    sampler.distribution(row, vocab, p);
    emit(sampler.record(sampler.draw_from(p), row, vocab));
    return j;
  }
  return n;
}

}  // namespace dsinfer
