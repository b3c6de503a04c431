#pragma once
// The DeepSeekMoE feed-forward block: routed experts (tokens grouped per
// expert so each active expert's weights are read once per step) plus the
// shared expert(s) applied to every token.
#include <cstdint>

#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/model_weights.h"

namespace dsinfer {

// x: [T, hidden] normalized input; out: [T, hidden].
void moe_forward(const ModelConfig& config, const MoeWeights& w, const float* x, int64_t n_tokens, float* out,
                 const ForwardOptions& options = {});

}  // namespace dsinfer
