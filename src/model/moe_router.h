#pragma once
// DeepSeekMoE routing (noaux_tc): sigmoid scores; a per-expert bias is added
// for *selection only*; experts are chosen inside the best topk_group groups
// (group score = sum of its top-2 biased scores); the combine weights come
// from the unbiased scores, normalized if norm_topk_prob, times
// routed_scaling_factor.
#include <cstdint>
#include <vector>

#include "io/model_config.h"

namespace dsinfer {

struct RoutingResult {
  int64_t top_k = 0;
  std::vector<int32_t> experts;  // [T, top_k]
  std::vector<float> weights;    // [T, top_k]
};

// logits: router outputs [T, n_routed_experts]; bias may be empty.
RoutingResult route_tokens(const ModelConfig& config, const float* logits, int64_t n_tokens,
                           const std::vector<float>& bias);

}  // namespace dsinfer
