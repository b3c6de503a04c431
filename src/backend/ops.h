#pragma once
// The backend ops interface: everything the model graph asks of a compute
// backend. The graph (model/) is written against this list only; a backend
// (kernels/cpu today, kernels/cuda later) implements it for every weight
// format of LinearWeight. Activations are float32 row-major [rows, features].
// A backend may keep scratch memory between calls (one forward at a time).
#include <cstdint>
#include <span>
#include <vector>

#include "backend/latent_pages.h"
#include "backend/linear_weight.h"
#include "io/model_config.h"

namespace dsinfer {

// SiLU-gated MLP: down(silu(gate(x)) * up(x)); dense layers and experts.
struct GatedMlpWeights {
  LinearWeight gate, up, down;
};

// What the MoE router needs from config.json.
struct RouterSpec {
  ScoringFunc scoring = ScoringFunc::Sigmoid;
  TopkMethod method = TopkMethod::NoauxTc;
  int64_t n_experts = 0, top_k = 0, n_group = 1, topk_group = 1;
  bool norm_topk_prob = true;
  double routed_scaling_factor = 1.0;
};

struct RoutingResult {
  int64_t top_k = 0;
  std::vector<int32_t> experts;  // [T, top_k]
  std::vector<float> weights;    // [T, top_k]
};

// Rotary embedding of pairs (2i, 2i+1) with frequency inv_freq[i], cos and
// sin scaled by attention_factor (YaRN).
struct RopeTable {
  const float* inv_freq = nullptr;
  int64_t dim = 0;
  float attention_factor = 1.f;
};

// Shape of one MLA layer's attention.
struct MlaShape {
  int64_t heads = 0, qk_nope = 0, qk_rope = 0, v_head = 0, rank = 0;
  float softmax_scale = 1.f;
  bool bf16 = false;  // scores and values on bf16 operands (ComputePrecision::BF16)
  int64_t qk() const { return qk_nope + qk_rope; }
  int64_t kv_rows() const { return qk_nope + v_head; }  // rows of kv_b_proj per head
};

// One sequence's part of an attention call: its new tokens are rows
// [row_begin, row_begin + n_tokens) of the activations, at positions
// [start_pos, start_pos + n_tokens); it attends to cache positions
// [0, start_pos + n_tokens) causally.
struct AttentionSeq {
  LatentPageTable cache;
  int64_t row_begin = 0, n_tokens = 0, start_pos = 0;
};

class Ops {
 public:
  virtual ~Ops() = default;
  virtual const char* name() const = 0;

  // Called once at load for each weight the graph multiplies by: the
  // backend may set w.packed to a copy in a layout its products prefer
  // (same values; each output's order of sums must still not depend on the
  // token count).
  virtual void pack_weight(LinearWeight& w) { (void)w; }
  // y[T, w.rows] = x[T, w.cols] W^T for any stored weight format.
  virtual void linear(const LinearWeight& w, const float* x, int64_t n_tokens, float* y) = 0;
  // ys[i][T, ws[i]->rows] = x W_i^T for several weights of one input (q_a and
  // kv_a of attention): a backend may run them as one parallel job.
  virtual void linears_of_one_input(std::span<const LinearWeight* const> ws, const float* x, int64_t n_tokens,
                                    std::span<float* const> ys) {
    for (size_t i = 0; i < ws.size(); ++i) linear(*ws[i], x, n_tokens, ys[i]);
  }
  // out[i] = row ids[i] of the embedding table as float32.
  virtual void embed(const LinearWeight& table, std::span<const int32_t> ids, float* out) = 0;
  // RMSNorm of n_rows rows of dim values, rows ld apart in x and out (may alias).
  virtual void rms_norm(const float* x, int64_t n_rows, int64_t dim, int64_t ld, const float* weight, double eps,
                        float* out) = 0;
  // x += y (residual connection).
  virtual void add(float* x, const float* y, int64_t n) = 0;
  // Rotates vectors in place: row r holds vecs_per_row vectors of t.dim
  // floats (vec_stride apart) at position positions[r].
  virtual void rope(const RopeTable& t, float* x, int64_t n_rows, int64_t row_stride, int64_t vecs_per_row,
                    int64_t vec_stride, const int64_t* positions) = 0;

  // out[T, hidden] = gated MLP of x.
  virtual void gated_mlp(const GatedMlpWeights& w, const float* x, int64_t n_tokens, float* out) = 0;
  // Router logits [T, n_experts] -> each token's top_k experts and weights
  // (bias, when not empty, is added for selection only).
  virtual RoutingResult route_top_k(const RouterSpec& spec, const float* logits, int64_t n_tokens,
                                    std::span<const float> bias) = 0;
  // out = sum over each token's chosen experts of weight * expert(x), the
  // tokens grouped per expert (each active expert's weights read once per
  // chunk of at most chunk_tokens tokens; 0: all at once).
  virtual void routed_experts(std::span<const GatedMlpWeights> experts, const RoutingResult& route, const float* x,
                              int64_t n_tokens, int64_t hidden, int64_t chunk_tokens, float* out) = 0;

  // MLA. kv: [T, ld] rows of [normalized latent | rotated k_pe] of the new
  // tokens, written into each sequence's pages at its new positions.
  virtual void mla_write_cache(std::span<const AttentionSeq> seqs, const float* kv, int64_t ld) = 0;
  // Absorbed decode: q_lat[h][t] = W_UK_h^T q_nope[t, h] ([heads, T, rank]).
  virtual void mla_absorb_query(const MlaShape& s, const LinearWeight& kv_b, const float* q, int64_t n_tokens,
                                float* q_lat) = 0;
  // lat_out[h][t] = softmax_p(scale (q_lat[h][t] . c_p + q_pe[t, h] . k_pe_p)) c_p over the
  // cached latents c_p of each token's sequence (q: [T, heads * qk] for q_pe).
  virtual void mla_decode_attention(const MlaShape& s, std::span<const AttentionSeq> seqs, const float* q_lat,
                                    const float* q, int64_t n_tokens, float* lat_out) = 0;
  // o[t, h] = W_UV_h lat_out[h][t] ([T, heads * v_head]).
  virtual void mla_value_projection(const MlaShape& s, const LinearWeight& kv_b, const float* lat_out,
                                    int64_t n_tokens, float* o) = 0;
  // Expanded (prefill) attention: the cached latents expanded to per-head
  // K/V by kv_b, causal softmax(q K^T) V per head into o [rows, heads * v_head].
  virtual void mla_prefill_attention(const MlaShape& s, const LinearWeight& kv_b, std::span<const AttentionSeq> seqs,
                                     const float* q, float* o) = 0;
};

}  // namespace dsinfer
