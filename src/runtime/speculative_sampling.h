#pragma once
// The acceptance rule of speculative sampling (Leviathan et al. 2023; Chen
// et al. 2023): draft j, drawn from q_j, is kept with probability
// min(1, p_j(d) / q_j(d)) under the target's p_j; the first rejected one is
// replaced by a draw from the normalized residual max(0, p_j - q_j), and
// when every draft is kept one more token comes from p_k. The emitted tokens
// are distributed exactly as sampling the target alone. Greedy samplers
// make p and q one-hot: a draft is kept iff it is the target's argmax.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/sampler.h"

namespace dsinfer {

struct Draft {
  int32_t token = 0;
  std::vector<float> q;  // the distribution it was drawn from, [vocab]
};

// Draws a draft from `logits` with the sequence's own sampler settings.
Draft draw_draft(Sampler& sampler, const float* logits, int64_t vocab);

// target: k + 1 rows of logits, row j scoring the position after draft j's
// predecessor. Each emitted token is recorded in the sampler and passed to
// emit, which returns false to stop (length, EOS). Returns how many drafts
// were accepted.
int64_t verify_drafts(Sampler& sampler, std::span<const Draft> drafts, const float* target, int64_t vocab,
                      const std::function<bool(const SampledToken&)>& emit);

// Benchmark mode (forced acceptance): each draft in turn is kept with
// probability `rate` whatever the target says, and the first one not kept
// is replaced by the target's token, as if it had been rejected. The text is
// not the model's; the work per step is that of a real acceptance `rate`.
int64_t verify_drafts_forced(Sampler& sampler, std::span<const Draft> drafts, const float* target, int64_t vocab,
                             double rate, const std::function<bool(const SampledToken&)>& emit);

}  // namespace dsinfer
