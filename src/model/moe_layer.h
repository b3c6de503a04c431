#pragma once
// The DeepSeekMoE feed-forward block: routed experts (tokens grouped per
// expert so each active expert's weights are read once per step) plus the
// shared expert(s) applied to every token.
#include <cstdint>

#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/model_weights.h"
#include "model/moe_router.h"

namespace dsinfer {

// The three phases of moe_forward, callable one by one (benchmark timing).
// Router logits + expert choice (perfect_eplb applied).
RoutingResult moe_route(const ModelConfig& config, const MoeWeights& w, const float* x, int64_t n_tokens,
                        const ForwardOptions& options = {});
// out = sum over each token's chosen experts of weight * expert(x); one pass
// over each active expert's weights per chunk of tokens.
void moe_routed_experts(const ModelConfig& config, const MoeWeights& w, const RoutingResult& route, const float* x,
                        int64_t n_tokens, float* out, const ForwardOptions& options = {});
// out += shared_experts(x) (no-op without shared experts).
void moe_add_shared(const MoeWeights& w, const float* x, int64_t n_tokens, int64_t hidden, float* out);

// x: [T, hidden] normalized input; out: [T, hidden].
void moe_forward(const ModelConfig& config, const MoeWeights& w, const float* x, int64_t n_tokens, float* out,
                 const ForwardOptions& options = {});

}  // namespace dsinfer
