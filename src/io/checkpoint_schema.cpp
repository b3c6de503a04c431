#include "io/checkpoint_schema.h"

#include <algorithm>

namespace dsinfer {
namespace {

LinearSpec fp8(std::string prefix, int64_t rows, int64_t cols) {
  return {std::move(prefix), rows, cols, LinearRole::Fp8Block};
}
LinearSpec bf16(std::string prefix, int64_t rows, int64_t cols) {
  return {std::move(prefix), rows, cols, LinearRole::Bf16Matrix};
}
VectorSpec norm(const std::string& prefix, int64_t n) { return {prefix + ".weight", n, VectorRole::Norm}; }

MlpSpec mlp(const std::string& prefix, int64_t hidden, int64_t inter) {
  return {fp8(prefix + ".gate_proj", inter, hidden), fp8(prefix + ".up_proj", inter, hidden),
          fp8(prefix + ".down_proj", hidden, inter)};
}

LayerSpec layer_spec(const ModelConfig& c, int64_t i, const SchemaOptions& o) {
  const int64_t H = c.hidden_size, heads = c.num_attention_heads;
  const std::string p = "model.layers." + std::to_string(i);
  LayerSpec L;
  L.index = i;
  L.input_layernorm = norm(p + ".input_layernorm", H);
  L.post_attention_layernorm = norm(p + ".post_attention_layernorm", H);

  AttentionSpec& a = L.attn;
  const std::string ap = p + ".self_attn";
  if (c.q_lora_rank) {
    a.q_a_proj = fp8(ap + ".q_a_proj", *c.q_lora_rank, H);
    a.q_a_layernorm = norm(ap + ".q_a_layernorm", *c.q_lora_rank);
    a.q_b_proj = fp8(ap + ".q_b_proj", heads * c.qk_head_dim(), *c.q_lora_rank);
  } else {
    a.q_b_proj = fp8(ap + ".q_proj", heads * c.qk_head_dim(), H);
  }
  a.kv_a_proj_with_mqa = fp8(ap + ".kv_a_proj_with_mqa", c.kv_lora_rank + c.qk_rope_head_dim, H);
  a.kv_a_layernorm = norm(ap + ".kv_a_layernorm", c.kv_lora_rank);
  a.kv_b_proj = fp8(ap + ".kv_b_proj", heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank);
  a.o_proj = fp8(ap + ".o_proj", H, heads * c.v_head_dim);
  if (c.quant.kv_cache_int8) a.ckv_scale = VectorSpec{ap + ".ckv_scale", 1, VectorRole::CkvScale};

  const std::string mp = p + ".mlp";
  if (!c.is_moe_layer(i)) {
    L.dense_mlp = mlp(mp, H, c.intermediate_size);
    return L;
  }
  MoeSpec m;
  m.n_routed_experts = c.n_routed_experts;
  m.router = bf16(mp + ".gate", c.n_routed_experts, H);
  if (c.topk_method == TopkMethod::NoauxTc)
    m.score_bias = VectorSpec{mp + ".gate.e_score_correction_bias", c.n_routed_experts, VectorRole::RouterBias};
  for (int64_t e = 0; e < c.n_routed_experts; ++e)
    if (!o.expert_filter || o.expert_filter(i, e))
      m.experts.emplace_back(e, mlp(mp + ".experts." + std::to_string(e), H, c.moe_intermediate_size));
  if (c.n_shared_experts > 0) m.shared = mlp(mp + ".shared_experts", H, c.moe_intermediate_size * c.n_shared_experts);
  L.moe = std::move(m);
  return L;
}

// Collects one group's tensors, then hands them on sorted by name.
class Group {
 public:
  void linear(const LinearSpec& s, int64_t block_rows, int64_t block_cols) {
    if (s.role == LinearRole::Bf16Matrix) {
      add({s.weight_name(), DType::BF16, {s.rows, s.cols}, &s, nullptr, false});
      return;
    }
    add({s.weight_name(), DType::F8_E4M3, {s.rows, s.cols}, &s, nullptr, false});
    add({s.scale_inv_name(), DType::F32,
         {(s.rows + block_rows - 1) / block_rows, (s.cols + block_cols - 1) / block_cols}, &s, nullptr, true});
  }
  void vector(const VectorSpec& s) {
    add({s.name, s.role == VectorRole::Norm ? DType::BF16 : DType::F32, {s.n}, nullptr, &s, false});
  }
  void flush(const std::function<void(const StoredTensor&)>& fn) {
    std::sort(tensors_.begin(), tensors_.end(),
              [](const StoredTensor& a, const StoredTensor& b) { return a.name < b.name; });
    for (const auto& t : tensors_) fn(t);
    tensors_.clear();
  }

 private:
  void add(StoredTensor t) { tensors_.push_back(std::move(t)); }
  std::vector<StoredTensor> tensors_;
};

void add_layer(Group& g, const LayerSpec& L, int64_t br, int64_t bc) {
  auto lin = [&](const LinearSpec& s) { g.linear(s, br, bc); };
  auto mlp = [&](const MlpSpec& m) {
    lin(m.gate);
    lin(m.up);
    lin(m.down);
  };
  g.vector(L.input_layernorm);
  g.vector(L.post_attention_layernorm);
  const AttentionSpec& a = L.attn;
  if (a.q_a_proj) lin(*a.q_a_proj);
  if (a.q_a_layernorm) g.vector(*a.q_a_layernorm);
  lin(a.q_b_proj);
  lin(a.kv_a_proj_with_mqa);
  g.vector(a.kv_a_layernorm);
  lin(a.kv_b_proj);
  lin(a.o_proj);
  if (a.ckv_scale) g.vector(*a.ckv_scale);
  if (L.dense_mlp) mlp(*L.dense_mlp);
  if (L.moe) {
    lin(L.moe->router);
    if (L.moe->score_bias) g.vector(*L.moe->score_bias);
    for (const auto& [id, e] : L.moe->experts) mlp(e);
    if (L.moe->shared) mlp(*L.moe->shared);
  }
}

}  // namespace

CheckpointSchema checkpoint_schema(const ModelConfig& c, const SchemaOptions& o) {
  CheckpointSchema s;
  s.block_rows = c.quant.block_rows;
  s.block_cols = c.quant.block_cols;
  const int64_t H = c.hidden_size, V = c.vocab_size;
  if (o.include_embedding) s.embed_tokens = bf16("model.embed_tokens", V, H);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) s.layers.push_back(layer_spec(c, i, o));
  if (o.include_mtp) {
    for (int64_t k = 0; k < c.num_nextn_predict_layers; ++k) {
      const int64_t i = c.num_hidden_layers + k;
      const std::string p = "model.layers." + std::to_string(i);
      MtpSpec m{layer_spec(c, i, o),
                std::nullopt,
                norm(p + ".enorm", H),
                norm(p + ".hnorm", H),
                bf16(p + ".eh_proj", H, 2 * H),
                norm(p + ".shared_head.norm", H),
                bf16(p + ".shared_head.head", V, H)};
      if (o.include_embedding) m.embed_tokens = bf16(p + ".embed_tokens", V, H);
      s.mtp_layers.push_back(std::move(m));
    }
  }
  s.final_norm = norm("model.norm", H);
  s.lm_head = bf16("lm_head", V, H);
  return s;
}

void for_each_tensor(const CheckpointSchema& s, const std::function<void(const StoredTensor&)>& fn) {
  const int64_t br = s.block_rows, bc = s.block_cols;
  Group g;
  if (s.embed_tokens) g.linear(*s.embed_tokens, br, bc);
  g.flush(fn);
  for (const auto& L : s.layers) {
    add_layer(g, L, br, bc);
    g.flush(fn);
  }
  for (const auto& m : s.mtp_layers) {
    add_layer(g, m.layer, br, bc);
    if (m.embed_tokens) g.linear(*m.embed_tokens, br, bc);
    g.vector(m.enorm);
    g.vector(m.hnorm);
    g.linear(m.eh_proj, br, bc);
    g.vector(m.shared_head_norm);
    g.linear(m.shared_head_head, br, bc);
    g.flush(fn);
  }
  g.vector(s.final_norm);
  if (s.lm_head) g.linear(*s.lm_head, br, bc);
  g.flush(fn);
}

}  // namespace dsinfer
