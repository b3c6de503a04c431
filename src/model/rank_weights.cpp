#include "model/rank_weights.h"

#include "io/error.h"

namespace dsinfer {
namespace {

void require_divides(int64_t total, const char* field, int64_t parts, const char* size_key, const ModelConfig& c) {
  if (parts > 1 && total % parts != 0)
    throw Error(c.path + ": " + field + " " + std::to_string(total) + " is not divisible by " + size_key + " " +
                std::to_string(parts));
}

void require_fits(int64_t total, const char* field, int64_t parts, const char* size_key, const ModelConfig& c) {
  if (parts > total)
    throw Error(c.path + ": " + size_key + " " + std::to_string(parts) + " is more than " + field + " " +
                std::to_string(total) + " (a rank would hold nothing)");
}

// An MLP split over its intermediate dimension: gate/up rows, down columns.
MlpWeights mlp_slice(const MlpWeights& m, int64_t parts, int64_t index, WeightStore& store) {
  if (parts == 1) return m;
  const SliceRange r = even_part(m.gate.rows, parts, index);
  return MlpWeights{slice_rows(m.gate, r.begin, r.end, store), slice_rows(m.up, r.begin, r.end, store),
                    slice_cols(m.down, r.begin, r.end, store)};
}

void shard_layer(LayerWeights& L, const ModelConfig& c, const RankShard& s, int rank, WeightStore& store,
                 size_t& bytes);

size_t mlp_bytes(const MlpWeights& m) { return m.gate.bytes() + m.up.bytes() + m.down.bytes(); }

}  // namespace

RankShard plan_rank_shard(const ModelConfig& c, const ParallelSizes& p, int rank) {
  RankShard s;
  s.attn_tp = p.attn_tp;
  s.dense_tp = p.dense_tp;
  s.moe_tp = p.moe_tp;
  s.moe_ep = p.expert_parallel();
  s.embed_tp = p.embed_tp;
  s.lmhead_tp = p.lmhead_tp;
  require_divides(c.num_attention_heads, "num_attention_heads", p.attn_tp, "attn_tp_size", c);
  require_fits(c.n_routed_experts, "n_routed_experts", s.moe_ep, "moe_ep_size", c);
  require_divides(c.n_routed_experts, "n_routed_experts", s.moe_ep, "moe_ep_size", c);
  require_fits(c.moe_intermediate_size, "moe_intermediate_size", p.moe_tp, "moe_tp_size", c);
  require_fits(c.intermediate_size, "intermediate_size", p.dense_tp, "dense_tp_size", c);
  require_fits(c.vocab_size, "vocab_size", p.embed_tp, "embed_tp_size", c);
  require_fits(c.vocab_size, "vocab_size", p.lmhead_tp, "lmhead_tp_size", c);
  const int64_t heads_each = c.num_attention_heads / p.attn_tp;
  const int64_t tp_rank = rank % p.attn_tp;
  s.heads = {tp_rank * heads_each, (tp_rank + 1) * heads_each};
  const int64_t experts_each = c.n_routed_experts / s.moe_ep;
  const int64_t ep_rank = rank / p.moe_tp;  // EP groups are strided by moe_tp_size
  s.experts = {ep_rank * experts_each, (ep_rank + 1) * experts_each};
  s.embed_vocab = even_part(c.vocab_size, p.embed_tp, rank % p.embed_tp);
  s.lmhead_vocab = even_part(c.vocab_size, p.lmhead_tp, rank % p.lmhead_tp);
  if (s.embed_vocab.size() == 0 || s.lmhead_vocab.size() == 0)
    throw Error(c.path + ": vocab_size " + std::to_string(c.vocab_size) +
                " leaves a rank without vocabulary rows under embed_tp_size / lmhead_tp_size");
  return s;
}

namespace {

void shard_layer(LayerWeights& L, const ModelConfig& c, const RankShard& s, int rank, WeightStore& store,
                 size_t& bytes) {
  AttentionWeights& a = L.attn;
  if (s.attn_tp > 1) {
    const int64_t qk = c.qk_nope_head_dim + c.qk_rope_head_dim, kv = c.qk_nope_head_dim + c.v_head_dim;
    a.q_b_proj = slice_rows(a.q_b_proj, s.heads.begin * qk, s.heads.end * qk, store);
    a.kv_b_proj = slice_rows(a.kv_b_proj, s.heads.begin * kv, s.heads.end * kv, store);
    a.o_proj = slice_cols(a.o_proj, s.heads.begin * c.v_head_dim, s.heads.end * c.v_head_dim, store);
  }
  bytes += (a.q_a_proj ? a.q_a_proj->bytes() : 0) + a.q_b_proj.bytes() + a.kv_a_proj_with_mqa.bytes() +
           a.kv_b_proj.bytes() + a.o_proj.bytes();
  if (L.dense_mlp) {
    L.dense_mlp = mlp_slice(*L.dense_mlp, s.dense_tp, rank % s.dense_tp, store);
    bytes += mlp_bytes(*L.dense_mlp);
  }
  if (L.moe) {
    MoeWeights& m = *L.moe;
    if (s.moe_ep > 1) {
      m.experts = std::vector<MlpWeights>(m.experts.begin() + s.experts.begin, m.experts.begin() + s.experts.end);
    } else {
      for (MlpWeights& e : m.experts) e = mlp_slice(e, s.moe_tp, rank % s.moe_tp, store);
      if (m.shared) m.shared = mlp_slice(*m.shared, s.moe_tp, rank % s.moe_tp, store);
    }
    bytes += m.router.bytes() + (m.shared ? mlp_bytes(*m.shared) : 0);
    for (const MlpWeights& e : m.experts) bytes += mlp_bytes(e);
  }
}

}  // namespace

std::unique_ptr<RankWeights> shard_weights(const ModelWeights& full, const ModelConfig& c, const ParallelSizes& p,
                                           int rank) {
  auto out = std::make_unique<RankWeights>();
  out->shard = plan_rank_shard(c, p, rank);
  const RankShard& s = out->shard;
  ModelWeights& w = out->weights;
  w = full;
  size_t bytes = 0;
  auto vocab_rows = [&](const LinearWeight& t, SliceRange r) { return slice_rows(t, r.begin, r.end, out->store); };
  w.embed_tokens = vocab_rows(full.embed_tokens, s.embed_vocab);
  w.lm_head = vocab_rows(full.lm_head, s.lmhead_vocab);
  bytes += w.embed_tokens.bytes() + w.lm_head.bytes();
  for (LayerWeights& L : w.layers) shard_layer(L, c, s, rank, out->store, bytes);
  for (MtpWeights& m : w.mtp) {
    m.embed_tokens = vocab_rows(m.embed_tokens, s.embed_vocab);
    m.shared_head = vocab_rows(m.shared_head, s.lmhead_vocab);
    bytes += m.embed_tokens.bytes() + m.shared_head.bytes() + m.eh_proj.bytes();
    shard_layer(m.block, c, s, rank, out->store, bytes);
  }
  w.bytes = bytes;
  return out;
}

}  // namespace dsinfer
