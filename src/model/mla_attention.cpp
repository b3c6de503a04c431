#include "model/mla_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm_f32.h"
#include "kernels/cpu/head_gemm.h"
#include "model/expanded_head_operands.h"
#include "model/latent_blocks_bf16.h"
#include "model/online_softmax.h"

namespace dsinfer {

void MlaAttention::forward(const AttentionWeights& w, int64_t layer, const float* x,
                           std::span<const BatchEntry> batch, const BatchLayout& layout, PagedLatentCache& cache,
                           AttentionPath path, float* out, MlaWorkspace* workspace) const {
  MlaWorkspace local;
  MlaWorkspace& ws = workspace ? *workspace : local;
  const int64_t T = layout.total_tokens;
  const int64_t heads = c_.num_attention_heads;
  const int64_t qk = c_.qk_head_dim(), nope = c_.qk_nope_head_dim, rope_dim = c_.qk_rope_head_dim;
  const int64_t rank = c_.kv_lora_rank;

  // Queries: [T, heads * (nope + rope)].
  // Every buffer below is fully overwritten before it is read.
  std::vector<float>& q = ws.q;
  q.resize(static_cast<size_t>(T * heads * qk));
  if (w.q_a_proj) {
    const int64_t qr = w.q_a_proj->rows;
    std::vector<float>& qa = ws.qa;
    qa.resize(static_cast<size_t>(T * qr));
    cpu::linear(*w.q_a_proj, x, T, qa.data());
    cpu::rms_norm(qa.data(), w.q_a_layernorm.data(), T, qr, c_.rms_norm_eps, qa.data());
    cpu::linear(w.q_b_proj, qa.data(), T, q.data());
  } else {
    cpu::linear(w.q_b_proj, x, T, q.data());
  }

  // Latent + k_pe of the new tokens go straight into the cache.
  const int64_t kv_width = rank + rope_dim;
  std::vector<float>& kva = ws.kva;
  kva.resize(static_cast<size_t>(T * kv_width));
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

  std::vector<float>& o = ws.o;
  o.resize(static_cast<size_t>(T * heads * c_.v_head_dim));
  if (path == AttentionPath::Absorbed)
    attend_absorbed(w, layer, q.data(), batch, layout, cache, o.data());
  else
    attend_expanded(w, layer, q.data(), batch, layout, cache, o.data(), ws);
  cpu::linear(w.o_proj, o.data(), T, out);
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

  // Flash-decoding over the latent cache: a work item is one query token and
  // a range of its positions, for all heads at once, so each cached latent is
  // read from memory once per token (not once per head). Heads are the vector
  // dimension (padded to hp); scores and the value sum are small GEMMs
  // (head_gemm) over blocks of kBlock positions kept in L1/L2, with an online
  // softmax; ranges of one token are merged at the end.
  constexpr int64_t kBlock = 64;
  const int64_t kw = rank + rope_dim;  // latent and k_pe side by side
  const int64_t hp = (heads + 15) / 16 * 16;
  const bool bf16 = precision_ == ComputePrecision::BF16 && cpu::cpu_features().avx512_bf16;
  struct Item {
    size_t b;
    int64_t j, p0, p1;
  };
  std::vector<Item> items;
  std::vector<int64_t> first_item(static_cast<size_t>(T) + 1, 0);
  const int64_t threads = omp_get_max_threads();
  for (size_t b = 0; b < batch.size(); ++b)
    for (int64_t j = 0; j < layout.n_tokens[b]; ++j) {
      const int64_t t = layout.row_begin[b] + j, L = layout.start_pos[b] + j + 1;
      // Split a token's context only when there are fewer tokens than threads.
      const int64_t want = std::max<int64_t>(1, (threads + T - 1) / T);
      const int64_t chunks = std::max<int64_t>(1, std::min(want, L / (4 * kBlock)));
      first_item[static_cast<size_t>(t)] = static_cast<int64_t>(items.size());
      for (int64_t c = 0; c < chunks; ++c) items.push_back({b, j, L * c / chunks, L * (c + 1) / chunks});
    }
  first_item[static_cast<size_t>(T)] = static_cast<int64_t>(items.size());
  const int64_t n_items = static_cast<int64_t>(items.size());
  std::vector<float> acc(static_cast<size_t>(n_items * rank * hp)), mx(static_cast<size_t>(n_items * hp)),
      sum(static_cast<size_t>(n_items * hp));
#pragma omp parallel
  {
    std::vector<float> qt(static_cast<size_t>(kw * hp), 0.f), blk(static_cast<size_t>(kBlock * kw)),
        sc(static_cast<size_t>(kBlock * hp)), alpha(static_cast<size_t>(hp)), block_max(static_cast<size_t>(hp));
    std::unique_ptr<LatentBlocksBf16> bf16_blocks;
    if (bf16) bf16_blocks = std::make_unique<LatentBlocksBf16>(heads, kw, rank);
#pragma omp for schedule(dynamic, 1)
    for (int64_t it = 0; it < n_items; ++it) {
      const Item& item = items[static_cast<size_t>(it)];
      const int64_t t = layout.row_begin[item.b] + item.j;
      const SequenceId s = batch[item.b].seq;
      float* a = acc.data() + it * rank * hp;
      float* m = mx.data() + it * hp;
      float* l = sum.data() + it * hp;
      std::fill(m, m + hp, -INFINITY);
      std::fill(l, l + hp, 0.f);
      if (bf16) {
        bf16_blocks->attend(q_lat.data() + t * rank, T * rank, q + t * heads * qk + nope, qk, cache, s, layer,
                            item.p0, item.p1, scale, a, m, l);
        continue;
      }
      // qt[k][h]: the absorbed query (latent part, then rope part), transposed.
      for (int64_t h = 0; h < heads; ++h) {
        const float* ql = q_lat.data() + (h * T + t) * rank;
        const float* qpe = q + t * heads * qk + h * qk + nope;
        for (int64_t k = 0; k < rank; ++k) qt[k * hp + h] = ql[k];
        for (int64_t k = 0; k < rope_dim; ++k) qt[(rank + k) * hp + h] = qpe[k];
      }
      bool first = true;
      for (int64_t p0 = item.p0; p0 < item.p1; p0 += kBlock) {
        const int64_t n = std::min(kBlock, item.p1 - p0);
        for (int64_t i = 0; i < n; ++i) {
          cache.load_latent(s, layer, p0 + i, blk.data() + i * kw);
          const float* kpe = cache.k_pe(s, layer, p0 + i);
          std::copy(kpe, kpe + rope_dim, blk.data() + i * kw + rank);
        }
        // sc[p][h] = blk[p] . qt[:, h]
        cpu::head_gemm(n, kw, blk.data(), kw, 1, qt.data(), hp, sc.data(), nullptr, false);
        online_softmax_block(sc.data(), n, hp, scale, first, m, l, alpha.data(), block_max.data());
        // a[d][h] = a[d][h] * alpha[h] + sum_p blk[p][d] * sc[p][h]
        cpu::head_gemm(rank, n, blk.data(), 1, kw, sc.data(), hp, a, alpha.data(), !first);
        first = false;
      }
    }
    // Merge the ranges of each token: lat_out[h][t] = sum_i w_i a_i / sum_i w_i l_i.
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t i0 = first_item[static_cast<size_t>(t)], i1 = first_item[static_cast<size_t>(t) + 1];
      for (int64_t h = 0; h < heads; ++h) {
        float gm = -INFINITY;
        for (int64_t i = i0; i < i1; ++i) gm = std::max(gm, mx[i * hp + h]);
        float den = 0.f;
        for (int64_t i = i0; i < i1; ++i) {
          alpha[static_cast<size_t>(i - i0)] = std::exp(mx[i * hp + h] - gm);
          den += alpha[static_cast<size_t>(i - i0)] * sum[i * hp + h];
        }
        float* lo = lat_out.data() + (h * T + t) * rank;
        for (int64_t d = 0; d < rank; ++d) {
          float v = 0.f;
          for (int64_t i = i0; i < i1; ++i) v += alpha[static_cast<size_t>(i - i0)] * acc[(i * rank + d) * hp + h];
          lo[d] = v / den;
        }
      }
    }
  }

  // o[t, h] = W_UV_h lat_out[h][t]; heads over the team (the nested
  // linear_rows then runs on its calling thread: 128 small GEMVs would
  // otherwise each open a parallel region).
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t h = 0; h < heads; ++h)
    cpu::linear_rows(w.kv_b_proj, h * kv_rows + nope, vdim, lat_out.data() + h * T * rank, T, o + h * vdim,
                     heads * vdim);
}


// Expanded attention, flash style: the cached latents are expanded to
// per-head K_nope / V one chunk of keys at a time (memory stays bounded by
// the chunk, not the context), and each block of queries meets each chunk
// as GEMMs (Q K^T with K transposed once per head and chunk, then P V) with
// an online softmax (running max and sum per query row, output rescaled
// when the max grows).
void MlaAttention::attend_expanded(const AttentionWeights& w, int64_t layer, const float* q,
                                   std::span<const BatchEntry> batch, const BatchLayout& layout,
                                   const PagedLatentCache& cache, float* o, MlaWorkspace& ws) const {
  const int64_t heads = c_.num_attention_heads;
  const int64_t qk = c_.qk_head_dim(), nope = c_.qk_nope_head_dim, rope_dim = c_.qk_rope_head_dim;
  const int64_t vdim = c_.v_head_dim, rank = c_.kv_lora_rank, kv_rows = nope + vdim;
  const float scale = rope_.softmax_scale();
  constexpr int64_t kQueryBlock = 64;
  constexpr int64_t kKeyChunk = kExpandedKeyChunk;
  const bool bf16 = precision_ == ComputePrecision::BF16 && cpu::cpu_features().avx512_bf16;

  for (size_t b = 0; b < batch.size(); ++b) {
    const SequenceId s = batch[b].seq;
    const int64_t n = layout.n_tokens[b], start = layout.start_pos[b], L = start + n;
    const float* q_seq = q + layout.row_begin[b] * heads * qk;
    float* o_seq = o + layout.row_begin[b] * heads * vdim;
    // Running softmax state per (head, query): max and sum of exp.
    std::vector<float> run_max(static_cast<size_t>(heads * n), -INFINITY), run_sum(static_cast<size_t>(heads * n), 0.f);
    for (int64_t t = 0; t < n; ++t) std::fill(o_seq + t * heads * vdim, o_seq + (t + 1) * heads * vdim, 0.f);

    for (int64_t k0 = 0; k0 < L; k0 += kKeyChunk) {
      const int64_t C = std::min(kKeyChunk, L - k0);
      std::vector<float>& latents = ws.latents;
      std::vector<float>& k_pe = ws.k_pe;
      std::vector<float>& kv = ws.kv;
      latents.resize(static_cast<size_t>(C * rank));
      k_pe.resize(static_cast<size_t>(C * rope_dim));
      kv.resize(static_cast<size_t>(C * heads * kv_rows));
      for (int64_t p = 0; p < C; ++p) {
        cache.load_latent(s, layer, k0 + p, latents.data() + p * rank);
        const float* kp = cache.k_pe(s, layer, k0 + p);
        std::copy(kp, kp + rope_dim, k_pe.data() + p * rope_dim);
      }
      cpu::linear(w.kv_b_proj, latents.data(), C, kv.data());
      const int64_t first_block = std::max<int64_t>(0, (k0 - start) / kQueryBlock * kQueryBlock);
#pragma omp parallel
      {
        HeadOperands ops(bf16, C, qk, vdim, kQueryBlock);
        std::vector<float> scores(static_cast<size_t>(kQueryBlock * C));
#pragma omp for schedule(dynamic, 1)
        for (int64_t h = 0; h < heads; ++h) {
          ops.load_keys_values(kv.data(), heads, kv_rows, h, nope, k_pe.data(), rope_dim);
          // Query blocks that see at least one key of this chunk.
          for (int64_t j0 = first_block; j0 < n; j0 += kQueryBlock) {
            const int64_t bm = std::min(kQueryBlock, n - j0);
            const int64_t visible = std::min(C, start + j0 + bm - k0);  // keys of the chunk any row sees
            if (visible <= 0) continue;
            ops.scores(q_seq + j0 * heads * qk + h * qk, heads * qk, bm, visible, scores.data());
            for (int64_t i = 0; i < bm; ++i) {
              float* row = scores.data() + i * C;
              float* orow = o_seq + (j0 + i) * heads * vdim + h * vdim;
              const int64_t len = std::min(visible, start + j0 + i + 1 - k0);  // causal within the chunk
              float& m = run_max[static_cast<size_t>(h * n + j0 + i)];
              float& l = run_sum[static_cast<size_t>(h * n + j0 + i)];
              if (len <= 0) {
                std::fill(row, row + visible, 0.f);
                continue;
              }
              float m_new = m;
              for (int64_t p = 0; p < len; ++p) m_new = std::max(m_new, row[p] *= scale);
              for (int64_t p = 0; p < len; ++p) row[p] -= m_new;
              cpu::exp_inplace(row, len);
              std::fill(row + len, row + visible, 0.f);
              float sum = 0.f;
              for (int64_t p = 0; p < len; ++p) sum += row[p];
              const float correction = std::exp(m - m_new);  // 0 for the first chunk (m = -inf)
              l = l * correction + sum;
              m = m_new;
              if (correction != 1.f)
                for (int64_t d = 0; d < vdim; ++d) orow[d] *= correction;
            }
            ops.accumulate_values(scores.data(), bm, visible, o_seq + j0 * heads * vdim + h * vdim, heads * vdim);
          }
        }
      }
    }
    // Normalize by the softmax denominators.
    for (int64_t t = 0; t < n; ++t)
      for (int64_t h = 0; h < heads; ++h) {
        const float inv = 1.0f / run_sum[static_cast<size_t>(h * n + t)];
        float* orow = o_seq + t * heads * vdim + h * vdim;
        for (int64_t d = 0; d < vdim; ++d) orow[d] *= inv;
      }
  }
}

}  // namespace dsinfer
