#pragma once
// The DeepSeekMoE feed-forward block: routed experts (tokens grouped per
// expert so each active expert's weights are read once per step) plus the
// shared expert(s) applied to every token.
#include <cstdint>

#include "backend/ops.h"
#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/model_weights.h"

namespace dsinfer {

RouterSpec router_spec(const ModelConfig& config);

// Router logits and top-k of x [T, hidden] (normalized); reports the Router
// phase. perfect_eplb assigns expert (i + eplb_offset) % n_experts to choice i
// (the recipe offsets by the global rank).
RoutingResult moe_route(Ops& ops, const ModelConfig& config, const MoeWeights& w, int64_t layer, const float* x,
                        int64_t n_tokens, const ForwardOptions& options, int64_t eplb_offset = 0);

// out[T, hidden] = routed experts + shared experts of x [T, hidden] (normalized).
// Reports the Router and RoutedExperts phases of `layer` to the observer.
void moe_forward(Ops& ops, const ModelConfig& config, const MoeWeights& w, int64_t layer, const float* x,
                 int64_t n_tokens, float* out, const ForwardOptions& options);

}  // namespace dsinfer
