#include "model/bind_weights.h"

namespace dsinfer {
namespace {

MlpWeights bind_mlp(const MlpSpec& m, const WeightSource& src) {
  return {src.linear(m.gate), src.linear(m.up), src.linear(m.down)};
}

LayerWeights bind_layer(const LayerSpec& s, const WeightSource& src) {
  LayerWeights L;
  L.input_layernorm = src.vector(s.input_layernorm);
  L.post_attention_layernorm = src.vector(s.post_attention_layernorm);
  const AttentionSpec& as = s.attn;
  AttentionWeights& a = L.attn;
  if (as.q_a_proj) a.q_a_proj = src.linear(*as.q_a_proj);
  if (as.q_a_layernorm) a.q_a_layernorm = src.vector(*as.q_a_layernorm);
  a.q_b_proj = src.linear(as.q_b_proj);
  a.kv_a_proj_with_mqa = src.linear(as.kv_a_proj_with_mqa);
  a.kv_a_layernorm = src.vector(as.kv_a_layernorm);
  a.kv_b_proj = src.linear(as.kv_b_proj);
  a.o_proj = src.linear(as.o_proj);
  if (as.ckv_scale) a.ckv_scale = src.vector(*as.ckv_scale).at(0);
  if (s.dense_mlp) L.dense_mlp = bind_mlp(*s.dense_mlp, src);
  if (s.moe) {
    MoeWeights m;
    m.router = src.linear(s.moe->router);
    if (s.moe->score_bias) m.score_bias = src.vector(*s.moe->score_bias);
    // Indexed by expert id, so the router's choice addresses it directly.
    m.experts.resize(static_cast<size_t>(s.moe->n_routed_experts));
    for (const auto& [id, e] : s.moe->experts) m.experts[static_cast<size_t>(id)] = bind_mlp(e, src);
    if (s.moe->shared) m.shared = bind_mlp(*s.moe->shared, src);
    L.moe = std::move(m);
  }
  return L;
}

}  // namespace

ModelWeights bind_weights(const CheckpointSchema& s, const WeightSource& src) {
  ModelWeights w;
  if (s.embed_tokens) w.embed_tokens = src.linear(*s.embed_tokens);
  w.layers.reserve(s.layers.size());
  for (const auto& L : s.layers) w.layers.push_back(bind_layer(L, src));
  for (const auto& m : s.mtp_layers) {
    MtpWeights t;
    t.block = bind_layer(m.layer, src);
    t.embed_tokens = m.embed_tokens ? src.linear(*m.embed_tokens) : w.embed_tokens;
    t.enorm = src.vector(m.enorm);
    t.hnorm = src.vector(m.hnorm);
    t.eh_proj = src.linear(m.eh_proj);
    t.shared_head_norm = src.vector(m.shared_head_norm);
    t.shared_head = src.linear(m.shared_head_head);
    w.mtp.push_back(std::move(t));
  }
  w.final_norm = src.vector(s.final_norm);
  w.lm_head = s.lm_head ? src.linear(*s.lm_head) : w.embed_tokens;
  return w;
}

}  // namespace dsinfer
