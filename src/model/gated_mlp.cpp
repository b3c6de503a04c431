#include "model/gated_mlp.h"

#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace dsinfer {

void gated_mlp_forward(const MlpWeights& w, const float* x, int64_t n_tokens, float* out) {
  const int64_t inter = w.gate.rows;
  std::vector<float> g(static_cast<size_t>(n_tokens * inter)), u(g.size());
  cpu::linear(w.gate, x, n_tokens, g.data());
  cpu::linear(w.up, x, n_tokens, u.data());
  cpu::silu_mul(g.data(), u.data(), n_tokens * inter, g.data());
  cpu::linear(w.down, g.data(), n_tokens, out);
}

}  // namespace dsinfer
