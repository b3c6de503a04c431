#include "model/moe_layer.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "model/gated_mlp.h"
#include "model/moe_router.h"

namespace dsinfer {

RoutingResult moe_route(const ModelConfig& c, const MoeWeights& w, const float* x, int64_t n_tokens,
                        const ForwardOptions& options) {
  const int64_t E = c.n_routed_experts;
  std::vector<float> logits(static_cast<size_t>(n_tokens * E));
  cpu::linear(w.router, x, n_tokens, logits.data());
  RoutingResult route = route_tokens(c, logits.data(), n_tokens, w.score_bias);
  if (options.perfect_eplb)
    for (int64_t i = 0; i < n_tokens * route.top_k; ++i) route.experts[i] = static_cast<int32_t>(i % E);
  return route;
}

void moe_routed_experts(const ModelConfig& c, const MoeWeights& w, const RoutingResult& route, const float* x,
                        int64_t n_tokens, float* out, const ForwardOptions& options) {
  const int64_t H = c.hidden_size, E = c.n_routed_experts;

  std::fill(out, out + n_tokens * H, 0.f);
  const int64_t chunk = options.moe_chunk_max_len > 0 ? options.moe_chunk_max_len : n_tokens;
  std::vector<std::vector<std::pair<int64_t, float>>> assigned(static_cast<size_t>(E));
  std::vector<float> xe, ye;
  for (int64_t t0 = 0; t0 < n_tokens; t0 += chunk) {
    const int64_t t1 = std::min(n_tokens, t0 + chunk);
    // Group this chunk's (token, weight) pairs by expert.
    for (auto& a : assigned) a.clear();
    for (int64_t t = t0; t < t1; ++t)
      for (int64_t k = 0; k < route.top_k; ++k)
        assigned[route.experts[t * route.top_k + k]].emplace_back(t, route.weights[t * route.top_k + k]);
    for (int64_t e = 0; e < E; ++e) {
      const auto& toks = assigned[e];
      if (toks.empty()) continue;
      const int64_t n = static_cast<int64_t>(toks.size());
      xe.resize(static_cast<size_t>(n * H));
      ye.resize(static_cast<size_t>(n * H));
      for (int64_t i = 0; i < n; ++i)
        std::copy(x + toks[i].first * H, x + (toks[i].first + 1) * H, xe.data() + i * H);
      gated_mlp_forward(w.experts[e], xe.data(), n, ye.data());
      for (int64_t i = 0; i < n; ++i) cpu::axpy(toks[i].second, ye.data() + i * H, out + toks[i].first * H, H);
    }
  }
}

void moe_add_shared(const MoeWeights& w, const float* x, int64_t n_tokens, int64_t H, float* out) {
  if (!w.shared) return;
  std::vector<float> shared(static_cast<size_t>(n_tokens * H));
  gated_mlp_forward(*w.shared, x, n_tokens, shared.data());
  for (int64_t i = 0; i < n_tokens * H; ++i) out[i] += shared[i];
}

void moe_forward(const ModelConfig& c, const MoeWeights& w, const float* x, int64_t n_tokens, float* out,
                 const ForwardOptions& options) {
  const RoutingResult route = moe_route(c, w, x, n_tokens, options);
  moe_routed_experts(c, w, route, x, n_tokens, out, options);
  moe_add_shared(w, x, n_tokens, c.hidden_size, out);
}

}  // namespace dsinfer
