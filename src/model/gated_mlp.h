#pragma once
// SiLU-gated MLP used by dense layers, routed experts and shared experts.
#include <cstdint>

#include "model/model_weights.h"

namespace dsinfer {

// out[T, hidden] = down(silu(gate(x)) * up(x)) for x [T, hidden].
void gated_mlp_forward(const MlpWeights& w, const float* x, int64_t n_tokens, float* out);

}  // namespace dsinfer
