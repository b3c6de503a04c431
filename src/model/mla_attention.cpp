#include "model/mla_attention.h"

#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace dsinfer {

void MlaAttention::forward(const AttentionWeights& w, int64_t layer, const float* x,
                           std::span<const BatchEntry> batch, const BatchLayout& layout, PagedLatentCache& cache,
                           AttentionPath path, float* out) const {
  const int64_t T = layout.total_tokens;
  const int64_t H = c_.hidden_size, heads = c_.num_attention_heads;
  const int64_t qk = c_.qk_head_dim(), nope = c_.qk_nope_head_dim, rope_dim = c_.qk_rope_head_dim;
  const int64_t rank = c_.kv_lora_rank;

  // Queries: [T, heads * (nope + rope)].
  std::vector<float> q(static_cast<size_t>(T * heads * qk));
  if (w.q_a_proj) {
    const int64_t qr = w.q_a_proj->rows;
    std::vector<float> qa(static_cast<size_t>(T * qr));
    cpu::linear(*w.q_a_proj, x, T, qa.data());
    cpu::rms_norm(qa.data(), w.q_a_layernorm.data(), T, qr, c_.rms_norm_eps, qa.data());
    cpu::linear(w.q_b_proj, qa.data(), T, q.data());
  } else {
    cpu::linear(w.q_b_proj, x, T, q.data());
  }

  // Latent + k_pe of the new tokens go straight into the cache.
  const int64_t kv_width = rank + rope_dim;
  std::vector<float> kva(static_cast<size_t>(T * kv_width));
  cpu::linear(w.kv_a_proj_with_mqa, x, T, kva.data());
  std::vector<float> latent(static_cast<size_t>(rank));
  for (size_t b = 0; b < batch.size(); ++b) {
    for (int64_t j = 0; j < layout.n_tokens[b]; ++j) {
      const int64_t t = layout.row_begin[b] + j, pos = layout.start_pos[b] + j;
      const float* src = kva.data() + t * kv_width;
      cpu::rms_norm(src, w.kv_a_layernorm.data(), 1, rank, c_.rms_norm_eps, latent.data());
      cache.store_latent(batch[b].seq, layer, pos, latent.data());
      float* k_pe = cache.k_pe(batch[b].seq, layer, pos);
      std::copy(src + rank, src + rank + rope_dim, k_pe);
      rope_.apply(k_pe, pos);
      for (int64_t h = 0; h < heads; ++h) rope_.apply(q.data() + t * heads * qk + h * qk + nope, pos);
    }
  }

  std::vector<float> o(static_cast<size_t>(T * heads * c_.v_head_dim));
  if (path == AttentionPath::Absorbed)
    attend_absorbed(w, layer, q.data(), batch, layout, cache, o.data());
  else
    attend_expanded(w, layer, q.data(), batch, layout, cache, o.data());
  cpu::linear(w.o_proj, o.data(), T, out);
  (void)H;
}

// Latent-space attention: score_t = (W_UK^T q_nope) . c_t + q_pe . k_pe_t, the
// value is sum_t p_t c_t, and W_UV maps it to the head output. The cache is
// read once per head and never expanded.
void MlaAttention::attend_absorbed(const AttentionWeights& w, int64_t layer, const float* q,
                                   std::span<const BatchEntry> batch, const BatchLayout& layout,
                                   const PagedLatentCache& cache, float* o) const {
  const int64_t T = layout.total_tokens, heads = c_.num_attention_heads;
  const int64_t qk = c_.qk_head_dim(), nope = c_.qk_nope_head_dim, rope_dim = c_.qk_rope_head_dim;
  const int64_t vdim = c_.v_head_dim, rank = c_.kv_lora_rank, kv_rows = nope + vdim;
  const float scale = rope_.softmax_scale();

  // q_lat[h][t] = q_nope[t, h] W_UK_h : [heads, T, rank]
  std::vector<float> q_lat(static_cast<size_t>(heads * T * rank));
  std::vector<float> lat_out(static_cast<size_t>(heads * T * rank));
#pragma omp parallel for schedule(static)
  for (int64_t h = 0; h < heads; ++h) {
    std::vector<float> qn(static_cast<size_t>(T * nope));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t d = 0; d < nope; ++d) qn[t * nope + d] = q[t * heads * qk + h * qk + d];
    cpu::linear_transposed_rows(w.kv_b_proj, h * kv_rows, nope, qn.data(), T, q_lat.data() + h * T * rank);
  }

  std::vector<std::pair<size_t, int64_t>> work;  // (entry, token) pairs
  for (size_t b = 0; b < batch.size(); ++b)
    for (int64_t j = 0; j < layout.n_tokens[b]; ++j) work.emplace_back(b, j);
  const int64_t n_work = static_cast<int64_t>(work.size()) * heads;
#pragma omp parallel
  {
    std::vector<float> scores;
#pragma omp for schedule(dynamic, 1)
    for (int64_t wi = 0; wi < n_work; ++wi) {
      const auto [b, j] = work[static_cast<size_t>(wi / heads)];
      const int64_t h = wi % heads;
      const int64_t t = layout.row_begin[b] + j, pos = layout.start_pos[b] + j;
      const SequenceId s = batch[b].seq;
      const float* ql = q_lat.data() + (h * T + t) * rank;
      const float* qpe = q + t * heads * qk + h * qk + nope;
      const int64_t L = pos + 1;
      scores.resize(static_cast<size_t>(L));
      for (int64_t p = 0; p < L; ++p)
        scores[p] = (cache.latent_dot(s, layer, p, ql) + cpu::dot(qpe, cache.k_pe(s, layer, p), rope_dim)) * scale;
      cpu::softmax_inplace(scores.data(), L);
      float* lo = lat_out.data() + (h * T + t) * rank;
      std::fill(lo, lo + rank, 0.f);
      for (int64_t p = 0; p < L; ++p) cache.latent_axpy(s, layer, p, scores[p], lo);
    }
  }

  // o[t, h] = W_UV_h lat_out[h][t]
  for (int64_t h = 0; h < heads; ++h)
    cpu::linear_rows(w.kv_b_proj, h * kv_rows + nope, vdim, lat_out.data() + h * T * rank, T, o + h * vdim,
                     heads * vdim);
}

// Expanded attention: K_nope and V of every cached position are rebuilt with
// kv_b_proj, then ordinary causal attention per head.
void MlaAttention::attend_expanded(const AttentionWeights& w, int64_t layer, const float* q,
                                   std::span<const BatchEntry> batch, const BatchLayout& layout,
                                   const PagedLatentCache& cache, float* o) const {
  const int64_t heads = c_.num_attention_heads;
  const int64_t qk = c_.qk_head_dim(), nope = c_.qk_nope_head_dim, rope_dim = c_.qk_rope_head_dim;
  const int64_t vdim = c_.v_head_dim, rank = c_.kv_lora_rank, kv_rows = nope + vdim;
  const float scale = rope_.softmax_scale();

  for (size_t b = 0; b < batch.size(); ++b) {
    const SequenceId s = batch[b].seq;
    const int64_t n = layout.n_tokens[b], L = layout.start_pos[b] + n;
    std::vector<float> latents(static_cast<size_t>(L * rank));
    for (int64_t p = 0; p < L; ++p) cache.load_latent(s, layer, p, latents.data() + p * rank);
    std::vector<float> kv(static_cast<size_t>(L * heads * kv_rows));
    cpu::linear(w.kv_b_proj, latents.data(), L, kv.data());
#pragma omp parallel
    {
      std::vector<float> scores;
#pragma omp for schedule(dynamic, 1)
      for (int64_t wi = 0; wi < n * heads; ++wi) {
        const int64_t j = wi / heads, h = wi % heads;
        const int64_t t = layout.row_begin[b] + j, pos = layout.start_pos[b] + j;
        const float* qh = q + t * heads * qk + h * qk;
        const int64_t len = pos + 1;
        scores.resize(static_cast<size_t>(len));
        for (int64_t p = 0; p < len; ++p) {
          const float* k_nope = kv.data() + (p * heads + h) * kv_rows;
          const float* k_pe = cache.k_pe(s, layer, p);
          scores[p] = (cpu::dot(qh, k_nope, nope) + cpu::dot(qh + nope, k_pe, rope_dim)) * scale;
        }
        cpu::softmax_inplace(scores.data(), len);
        float* oh = o + t * heads * vdim + h * vdim;
        std::fill(oh, oh + vdim, 0.f);
        for (int64_t p = 0; p < len; ++p) cpu::axpy(scores[p], kv.data() + (p * heads + h) * kv_rows + nope, oh, vdim);
      }
    }
  }
}

}  // namespace dsinfer
