#include "kernels/cpu/mla_attention_cpu.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/expanded_head_operands.h"
#include "kernels/cpu/gemm_f32.h"
#include "kernels/cpu/head_gemm.h"
#include "kernels/cpu/latent_blocks_bf16.h"
#include "kernels/cpu/online_softmax.h"

namespace dsinfer::cpu {

void mla_write_cache(std::span<const AttentionSeq> seqs, const float* kv, int64_t ld) {
  for (const AttentionSeq& sq : seqs) {
    const LatentRowLayout& l = sq.cache.layout;
    for (int64_t j = 0; j < sq.n_tokens; ++j) {
      const float* src = kv + (sq.row_begin + j) * ld;
      const int64_t pos = sq.start_pos + j;
      sq.cache.store_latent(pos, src);
      std::copy(src + l.latent_dim, src + l.latent_dim + l.rope_dim, sq.cache.k_pe(pos));
    }
  }
}

// q_lat[h][t] = q_nope[t][h] x W_UK_h, exact float32, one FMA chain over d
// per output whichever form runs (same bits: a token's result does not
// depend on its step's other tokens, tested). Decode batches: W_UK_h read
// once from memory straight into register accumulators (left_multiply_rows).
// Larger batches, or formats without that kernel: the 128 x 512 block
// dequantized once into L2, then one GEMM (the dequantized copy is 4x the
// FP8 bytes: at one token it cost more than the rest of the absorption).
void mla_absorb_query(const MlaShape& s, const LinearWeight& kv_b, const float* q, int64_t T, float* q_lat) {
  const int64_t qk = s.qk(), nope = s.qk_nope, rank = s.rank;
  // Beyond this the GEMM's reuse of the dequantized block wins. Measured
  // (`gemv_bench --absorb`, R1 shapes, 2 threads): fused / GEMM time 0.2
  // (FP8) and 0.5 (bf16) at 1 token, 0.4-0.5 / 0.8 at 8, 0.7-0.8 / 0.8-1.0
  // at 16, 1.0-1.1 at 32.
  constexpr int64_t kLeftMultiplyMaxTokens = 16;
#pragma omp parallel
  {
    std::vector<float> qn, w_uk;
#pragma omp for schedule(static)
    for (int64_t h = 0; h < s.heads; ++h) {
      if (T <= kLeftMultiplyMaxTokens &&
          left_multiply_rows(kv_b, h * s.kv_rows(), nope, q + h * qk, s.heads * qk, T, q_lat + h * T * rank, rank))
        continue;
      qn.resize(static_cast<size_t>(T * nope));
      w_uk.resize(static_cast<size_t>(nope * rank));
      for (int64_t t = 0; t < T; ++t)
        for (int64_t d = 0; d < nope; ++d) qn[t * nope + d] = q[t * s.heads * qk + h * qk + d];
      for (int64_t d = 0; d < nope; ++d) dequant_row(kv_b, h * s.kv_rows() + d, w_uk.data() + d * rank);
      gemm_f32(T, rank, nope, qn.data(), nope, 1, w_uk.data(), rank, q_lat + h * T * rank, rank, false);
    }
  }
}

namespace {
// Each OpenMP thread's decode buffers, kept from call to call (the threads
// live for the process): allocated per call they were ~1 MB per thread per
// layer of fresh pages to zero and fault in, measurable at every step.
// Sized by the model's shape, not by the batch or the context.
struct DecodeThreadScratch {
  AlignedVector<float> qt, blk, sc, alpha, block_max;
  std::unique_ptr<LatentBlocksBf16> bf16_blocks;
};
DecodeThreadScratch& decode_thread_scratch() {
  static thread_local DecodeThreadScratch scratch;
  return scratch;
}
}  // namespace

// Flash-decoding over the latent cache: a work item is one query token and
// a range of its positions, for all heads at once, so each cached latent is
// read from memory once per token (not once per head). Heads are the vector
// dimension (padded to hp); scores and the value sum are small GEMMs
// (head_gemm) over blocks of kBlock positions kept in L1/L2, with an online
// softmax; ranges of one token are merged at the end.
void mla_decode_attention(const MlaShape& s, std::span<const AttentionSeq> seqs, const float* q_lat, const float* q,
                          int64_t T, float* lat_out, MlaScratch& ws) {
  const int64_t heads = s.heads, qk = s.qk(), nope = s.qk_nope, rope_dim = s.qk_rope, rank = s.rank;
  const float scale = s.softmax_scale;
  constexpr int64_t kBlock = 64;
  const int64_t kw = rank + rope_dim;  // latent and k_pe side by side
  const int64_t hp = (heads + 15) / 16 * 16;
  const bool bf16 = s.bf16 && cpu_features().avx512_bf16;
  struct Item {
    size_t seq;
    int64_t j, p0, p1;
  };
  std::vector<Item> items;
  std::vector<int64_t> first_item(static_cast<size_t>(T) + 1, 0);
  const int64_t threads = omp_get_max_threads();
  for (size_t b = 0; b < seqs.size(); ++b)
    for (int64_t j = 0; j < seqs[b].n_tokens; ++j) {
      const int64_t t = seqs[b].row_begin + j, L = seqs[b].start_pos + j + 1;
      // Split a token's context only when there are fewer tokens than threads.
      const int64_t want = std::max<int64_t>(1, (threads + T - 1) / T);
      const int64_t chunks = std::max<int64_t>(1, std::min(want, L / (4 * kBlock)));
      first_item[static_cast<size_t>(t)] = static_cast<int64_t>(items.size());
      for (int64_t c = 0; c < chunks; ++c) items.push_back({b, j, L * c / chunks, L * (c + 1) / chunks});
    }
  first_item[static_cast<size_t>(T)] = static_cast<int64_t>(items.size());
  const int64_t n_items = static_cast<int64_t>(items.size());
  // Every element is written before it is read (first blocks write, m and l are filled).
  AlignedVector<float>&acc = ws.acc, &mx = ws.mx, &sum = ws.sum;
  const auto need = static_cast<size_t>(n_items * rank * hp);
  // Kept from step to step, but a burst's is given back: over 64 MB and more
  // than 4x what this step needs (R1: 256 KB per decode token and range).
  if (acc.capacity() > 4 * need && acc.capacity() * sizeof(float) > (size_t{64} << 20)) AlignedVector<float>().swap(acc);
  acc.resize(need);
  mx.resize(static_cast<size_t>(n_items * hp));
  sum.resize(static_cast<size_t>(n_items * hp));
#pragma omp parallel
  {
    DecodeThreadScratch& ts = decode_thread_scratch();
    AlignedVector<float>&qt = ts.qt, &blk = ts.blk, &sc = ts.sc, &alpha = ts.alpha, &block_max = ts.block_max;
    LatentBlocksBf16* bf16_blocks = nullptr;
    // Also the merge's weights: up to `threads` ranges per token, which on a
    // many-core machine can outnumber the (padded) heads.
    alpha.resize(static_cast<size_t>(std::max(hp, threads)));
    if (bf16) {
      if (!ts.bf16_blocks || !ts.bf16_blocks->fits(heads, kw, rank))
        ts.bf16_blocks = std::make_unique<LatentBlocksBf16>(heads, kw, rank);
      bf16_blocks = ts.bf16_blocks.get();
    } else {
      qt.assign(static_cast<size_t>(kw * hp), 0.f);  // padding heads stay 0
      blk.resize(static_cast<size_t>(kBlock * kw));
      sc.resize(static_cast<size_t>(kBlock * hp));
      block_max.resize(static_cast<size_t>(hp));
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t it = 0; it < n_items; ++it) {
      const Item& item = items[static_cast<size_t>(it)];
      const AttentionSeq& sq = seqs[item.seq];
      const LatentPageTable& cache = sq.cache;
      const int64_t t = sq.row_begin + item.j;
      float* a = acc.data() + it * rank * hp;
      float* m = mx.data() + it * hp;
      float* l = sum.data() + it * hp;
      std::fill(m, m + hp, -INFINITY);
      std::fill(l, l + hp, 0.f);
      if (bf16) {
        bf16_blocks->attend(q_lat + t * rank, T * rank, q + t * heads * qk + nope, qk, cache, item.p0, item.p1, scale,
                            a, m, l);
        continue;
      }
      // qt[k][h]: the absorbed query (latent part, then rope part), transposed.
      for (int64_t h = 0; h < heads; ++h) {
        const float* ql = q_lat + (h * T + t) * rank;
        const float* qpe = q + t * heads * qk + h * qk + nope;
        for (int64_t k = 0; k < rank; ++k) qt[k * hp + h] = ql[k];
        for (int64_t k = 0; k < rope_dim; ++k) qt[(rank + k) * hp + h] = qpe[k];
      }
      bool first = true;
      for (int64_t p0 = item.p0; p0 < item.p1; p0 += kBlock) {
        const int64_t n = std::min(kBlock, item.p1 - p0);
        for (int64_t i = 0; i < n; ++i) {
          float* dst = blk.data() + i * kw;
          if (!cache.layout.latent_int8) {
            const float* row = cache.float_row(p0 + i);
            std::copy(row, row + kw, dst);
            continue;
          }
          cache.load_latent(p0 + i, dst);
          const float* kpe = cache.k_pe(p0 + i);
          std::copy(kpe, kpe + rope_dim, dst + rank);
        }
        // sc[p][h] = blk[p] . qt[:, h]
        head_gemm(n, kw, blk.data(), kw, 1, qt.data(), hp, sc.data(), nullptr, false);
        online_softmax_block(sc.data(), n, hp, scale, first, m, l, alpha.data(), block_max.data());
        // a[d][h] = a[d][h] * alpha[h] + sum_p blk[p][d] * sc[p][h]
        head_gemm(rank, n, blk.data(), 1, kw, sc.data(), hp, a, alpha.data(), !first);
        first = false;
      }
    }
    // Merge the ranges of each token: lat_out[h][t] = sum_i w_i a_i / sum_i w_i l_i
    // (a_i by [d][h] from head_gemm, by [h][d] from the bf16 blocks).
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
        float* lo = lat_out + (h * T + t) * rank;
        if (bf16) {  // a[h][d]: contiguous over d
          std::fill(lo, lo + rank, 0.f);
          for (int64_t i = i0; i < i1; ++i) {
            const float ai = alpha[static_cast<size_t>(i - i0)];
            const float* src = acc.data() + (i * hp + h) * rank;
            for (int64_t d = 0; d < rank; ++d) lo[d] += ai * src[d];
          }
          for (int64_t d = 0; d < rank; ++d) lo[d] /= den;
          continue;
        }
        for (int64_t d = 0; d < rank; ++d) {
          float v = 0.f;
          for (int64_t i = i0; i < i1; ++i) v += alpha[static_cast<size_t>(i - i0)] * acc[(i * rank + d) * hp + h];
          lo[d] = v / den;
        }
      }
    }
  }
}

// o[t, h] = W_UV_h lat_out[h][t]; heads over the team (the nested
// linear_rows then runs on its calling thread: 128 small GEMVs would
// otherwise each open a parallel region).
void mla_value_projection(const MlaShape& s, const LinearWeight& kv_b, const float* lat_out, int64_t T, float* o) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t h = 0; h < s.heads; ++h)
    linear_rows(kv_b, h * s.kv_rows() + s.qk_nope, s.v_head, lat_out + h * T * s.rank, T, o + h * s.v_head,
                s.heads * s.v_head);
}

// Expanded attention, flash style: the cached latents are expanded to
// per-head K_nope / V one chunk of keys at a time (memory stays bounded by
// the chunk, not the context), and each block of queries meets each chunk
// as GEMMs (Q K^T with K transposed once per head and chunk, then P V) with
// an online softmax (running max and sum per query row, output rescaled
// when the max grows).
void mla_prefill_attention(const MlaShape& s, const LinearWeight& kv_b, std::span<const AttentionSeq> seqs,
                           const float* q, float* o, MlaScratch& ws) {
  const int64_t heads = s.heads, qk = s.qk(), nope = s.qk_nope, rope_dim = s.qk_rope;
  const int64_t vdim = s.v_head, rank = s.rank, kv_rows = s.kv_rows();
  const float scale = s.softmax_scale;
  constexpr int64_t kQueryBlock = 64;
  constexpr int64_t kKeyChunk = kExpandedKeyChunk;
  const bool bf16 = s.bf16 && cpu_features().avx512_bf16;

  for (const AttentionSeq& sq : seqs) {
    const LatentPageTable& cache = sq.cache;
    const int64_t n = sq.n_tokens, start = sq.start_pos, L = start + n;
    const float* q_seq = q + sq.row_begin * heads * qk;
    float* o_seq = o + sq.row_begin * heads * vdim;
    // Running softmax state per (head, query): max and sum of exp.
    std::vector<float> run_max(static_cast<size_t>(heads * n), -INFINITY), run_sum(static_cast<size_t>(heads * n), 0.f);
    for (int64_t t = 0; t < n; ++t) std::fill(o_seq + t * heads * vdim, o_seq + (t + 1) * heads * vdim, 0.f);

    for (int64_t k0 = 0; k0 < L; k0 += kKeyChunk) {
      const int64_t C = std::min(kKeyChunk, L - k0);
      AlignedVector<float>& latents = ws.latents;
      AlignedVector<float>& k_pe = ws.k_pe;
      AlignedVector<float>& kv = ws.kv;
      latents.resize(static_cast<size_t>(C * rank));
      k_pe.resize(static_cast<size_t>(C * rope_dim));
      kv.resize(static_cast<size_t>(C * heads * kv_rows));
      for (int64_t p = 0; p < C; ++p) {
        cache.load_latent(k0 + p, latents.data() + p * rank);
        const float* kp = cache.k_pe(k0 + p);
        std::copy(kp, kp + rope_dim, k_pe.data() + p * rope_dim);
      }
      linear_f32_accuracy(kv_b, latents.data(), C, kv.data());
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
              const float correction = online_softmax_row(row, len, visible, scale, m, l);
              if (correction != 1.f) scale_inplace(orow, vdim, correction);
            }
            ops.accumulate_values(scores.data(), bm, visible, o_seq + j0 * heads * vdim + h * vdim, heads * vdim);
          }
        }
      }
    }
    // Normalize by the softmax denominators.
    for (int64_t t = 0; t < n; ++t)
      for (int64_t h = 0; h < heads; ++h) {
        scale_inplace(o_seq + t * heads * vdim + h * vdim, vdim, 1.0f / run_sum[static_cast<size_t>(h * n + t)]);
      }
  }
}

}  // namespace dsinfer::cpu
