#pragma once
// DeepSeekMoE routing on the CPU (noaux_tc): sigmoid scores; a per-expert
// bias is added for *selection only*; experts are chosen inside the best
// topk_group groups (group score = sum of its top-2 biased scores); the
// combine weights come from the unbiased scores, normalized if
// norm_topk_prob, times routed_scaling_factor.
#include <cstdint>
#include <span>

#include "backend/ops.h"

namespace dsinfer::cpu {

// logits: router outputs [T, n_experts]; bias may be empty.
RoutingResult route_top_k(const RouterSpec& spec, const float* logits, int64_t n_tokens, std::span<const float> bias);

}  // namespace dsinfer::cpu
