#include "model/moe_layer.h"

#include <vector>

namespace dsinfer {

RouterSpec router_spec(const ModelConfig& c) {
  RouterSpec r;
  r.scoring = c.scoring_func;
  r.method = c.topk_method;
  r.n_experts = c.n_routed_experts;
  r.top_k = c.num_experts_per_tok;
  r.n_group = c.n_group;
  r.topk_group = c.topk_group;
  r.norm_topk_prob = c.norm_topk_prob;
  r.routed_scaling_factor = c.routed_scaling_factor;
  return r;
}

RoutingResult moe_route(Ops& ops, const ModelConfig& c, const MoeWeights& w, int64_t layer, const float* x, int64_t T,
                        const ForwardOptions& o, int64_t eplb_offset) {
  const int64_t E = c.n_routed_experts;
  std::vector<float> logits(static_cast<size_t>(T * E));
  ops.linear(w.router, x, T, logits.data());
  RouterSpec spec = router_spec(c);
  if (o.experts_per_token > 0) spec.top_k = o.experts_per_token;
  RoutingResult route = ops.route_top_k(spec, logits.data(), T, w.score_bias);
  if (o.perfect_eplb)
    for (int64_t i = 0; i < T * route.top_k; ++i) route.experts[i] = static_cast<int32_t>((i + eplb_offset) % E);
  if (o.observer) {
    o.observer->routed(layer, route);
    o.observer->phase_done(StepPhase::Router, layer);
  }
  return route;
}

void moe_forward(Ops& ops, const ModelConfig& c, const MoeWeights& w, int64_t layer, const float* x, int64_t T,
                 float* out, const ForwardOptions& o) {
  const int64_t H = c.hidden_size;
  const RoutingResult route = moe_route(ops, c, w, layer, x, T, o);
  ops.routed_experts(w.experts, route, x, T, H, o.moe_chunk_max_len, out);
  if (o.observer) o.observer->phase_done(StepPhase::RoutedExperts, layer);
  if (w.shared) {
    std::vector<float> shared(static_cast<size_t>(T * H));
    ops.gated_mlp(*w.shared, x, T, shared.data());
    ops.add(out, shared.data(), T * H);
  }
}

}  // namespace dsinfer
