#include "model/mla_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/linear_avx512.h"
#include "kernels/numeric_formats.h"
#include "kernels/cpu/gemm_f32.h"
#include "kernels/cpu/head_gemm.h"

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

namespace {

// One block of the online softmax over a block of n scores per head,
// sc[p][h] (row stride hp): scales, updates the running max m and sum l, and
// leaves exp(score - max) in sc; alpha[h] = exp(old max - new max) rescales
// what was accumulated before (0 on the first block). Heads are the inner,
// contiguous loop so every step vectorizes; block_max holds hp floats.
void online_softmax_block(float* sc, int64_t n, int64_t hp, float scale, bool first, float* m, float* l,
                          float* alpha, float* block_max) {
  for (int64_t h = 0; h < hp; ++h) block_max[h] = m[h];
  for (int64_t i = 0; i < n; ++i) {
    float* row = sc + i * hp;
#pragma omp simd
    for (int64_t h = 0; h < hp; ++h) {
      row[h] *= scale;
      block_max[h] = std::max(block_max[h], row[h]);
    }
  }
  for (int64_t h = 0; h < hp; ++h) {
    alpha[h] = first ? 0.f : std::exp(m[h] - block_max[h]);
    m[h] = block_max[h];
  }
  for (int64_t i = 0; i < n; ++i) {
    float* row = sc + i * hp;
#pragma omp simd
    for (int64_t h = 0; h < hp; ++h) row[h] -= block_max[h];
  }
  cpu::exp_inplace(sc, n * hp);
  for (int64_t h = 0; h < hp; ++h) l[h] *= alpha[h];
  for (int64_t i = 0; i < n; ++i) {
    const float* row = sc + i * hp;
#pragma omp simd
    for (int64_t h = 0; h < hp; ++h) l[h] += row[h];
  }
}

// The absorbed flash-decoding loop of one token over positions [p0, p1) with
// bf16 operands (ComputePrecision::BF16): per block of kBlock cached
// positions, scores = packed query panels (32 heads each) x the block's bf16
// latents, values = the block packed k-major (32 latent dims per panel) x the
// transposed bf16 probabilities, into a[h][d]; float32 softmax and sums.
class LatentBlocksBf16 {
 public:
  static constexpr int64_t kBlock = 64;

  LatentBlocksBf16(int64_t heads, int64_t kw, int64_t rank)
      : heads_(heads), kw_(kw), rank_(rank), hp_((heads + 15) / 16 * 16), hpan_((heads + 31) / 32),
        dpan_((rank + 31) / 32) {
    q_panel_ = cpu::avx512::bf16_panel_elems(kw);
    v_panel_ = cpu::avx512::bf16_panel_elems(kBlock);
    storage_.resize(static_cast<size_t>(hpan_ * q_panel_ + dpan_ * v_panel_ + 32));
    qrows_.resize(static_cast<size_t>(heads * kw));
    lat_.resize(static_cast<size_t>(kw));
    scb_.resize(static_cast<size_t>(kBlock * hp_));
    blk_.resize(static_cast<size_t>(kBlock * kw));
    pt_.resize(static_cast<size_t>(hp_ * kBlock));
    sc_.resize(static_cast<size_t>(kBlock * hp_));
    alpha_.resize(static_cast<size_t>(hp_));
    block_max_.resize(static_cast<size_t>(hp_));
    ahd_.resize(static_cast<size_t>(hp_ * rank));
  }

  // q_lat: head h's absorbed latent query at q_lat + h * q_lat_head_stride;
  // q_pe: head h's rope part at q_pe + h * q_pe_head_stride. Writes the
  // unnormalized output a[d][h] (row stride hp), running max m and sum l.
  void attend(const float* q_lat, int64_t q_lat_head_stride, const float* q_pe, int64_t q_pe_head_stride,
              const PagedLatentCache& cache, SequenceId s, int64_t layer, int64_t p0, int64_t p1, float scale,
              float* a, int64_t hp, float* m, float* l) {
    const int64_t rope_dim = kw_ - rank_;
    for (int64_t h = 0; h < heads_; ++h) {
      cpu::avx512::to_bf16(q_lat + h * q_lat_head_stride, rank_, qrows_.data() + h * kw_);
      cpu::avx512::to_bf16(q_pe + h * q_pe_head_stride, rope_dim, qrows_.data() + h * kw_ + rank_);
    }
    for (int64_t i = 0; i < hpan_; ++i)
      cpu::avx512::bf16_pack_panel(qrows_.data() + 32 * i * kw_, kw_, kw_, std::min<int64_t>(32, heads_ - 32 * i),
                                   q_pack(i));
    std::fill(ahd_.begin(), ahd_.end(), 0.f);
    bool first = true;
    for (int64_t b0 = p0; b0 < p1; b0 += kBlock) {
      const int64_t n = std::min(kBlock, p1 - b0), n2 = (n + 1) / 2 * 2;
      for (int64_t i = 0; i < n; ++i) {
        if (const float* row = cache.float_row(s, layer, b0 + i)) {  // converted in place
          cpu::avx512::to_bf16(row, kw_, blk_.data() + i * kw_);
          continue;
        }
        cache.load_latent(s, layer, b0 + i, lat_.data());  // C8: dequantize first
        const float* kpe = cache.k_pe(s, layer, b0 + i);
        std::copy(kpe, kpe + rope_dim, lat_.data() + rank_);
        cpu::avx512::to_bf16(lat_.data(), kw_, blk_.data() + i * kw_);
      }
      // sc[p][h] = blk[p] . q_h
      for (int64_t i = 0; i < hpan_; ++i)
        cpu::avx512::bf16_panel_rows(q_pack(i), kw_, std::min<int64_t>(32, heads_ - 32 * i), blk_.data(), kw_, n,
                                     sc_.data() + 32 * i, hp_, false);
      online_softmax_block(sc_.data(), n, hp_, scale, first, m, l, alpha_.data(), block_max_.data());
      // Rescale what was accumulated when a head's max moved.
      if (!first)
        for (int64_t h = 0; h < heads_; ++h)
          if (alpha_[h] != 1.f)
            for (int64_t d = 0; d < rank_; ++d) ahd_[h * rank_ + d] *= alpha_[h];
      // pt[h][p] = bf16(sc[p][h]), zero past n (pairs): convert, then transpose.
      cpu::avx512::to_bf16(sc_.data(), n * hp_, scb_.data());
      for (int64_t h = 0; h < heads_; ++h) {
        for (int64_t p = 0; p < n; ++p) pt_[h * n2 + p] = scb_[p * hp_ + h];
        if (n2 > n) pt_[h * n2 + n] = 0;
      }
      // a[h][d] += sum_p pt[h][p] blk[p][d]
      for (int64_t j = 0; j < dpan_; ++j) {
        const int64_t nr = std::min<int64_t>(32, rank_ - 32 * j);
        cpu::avx512::bf16_pack_panel_kmajor(blk_.data() + 32 * j, kw_, n, nr, v_pack(j));
        cpu::avx512::bf16_panel_rows(v_pack(j), n, nr, pt_.data(), n2, heads_, ahd_.data() + 32 * j, rank_, true);
      }
      first = false;
    }
    for (int64_t d = 0; d < rank_; ++d)
      for (int64_t h = 0; h < heads_; ++h) a[d * hp + h] = ahd_[h * rank_ + d];
  }

 private:
  uint16_t* aligned() {
    const auto mis = reinterpret_cast<uintptr_t>(storage_.data()) % 64;
    return storage_.data() + (mis ? (64 - mis) / 2 : 0);
  }
  uint16_t* q_pack(int64_t i) { return aligned() + i * q_panel_; }
  uint16_t* v_pack(int64_t j) { return aligned() + hpan_ * q_panel_ + j * v_panel_; }

  int64_t heads_, kw_, rank_, hp_, hpan_, dpan_, q_panel_ = 0, v_panel_ = 0;
  std::vector<uint16_t> storage_, qrows_, blk_, pt_, scb_;
  std::vector<float> lat_, sc_, alpha_, block_max_, ahd_;
};

}  // namespace

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
                            item.p0, item.p1, scale, a, hp, m, l);
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

namespace {

// One head's keys and values for a chunk of C keys, in the layout the score
// (Q K^T) and value (P V) GEMMs read: float32 K^T [qk][C] and V [C][v] for the
// exact path, or packed bf16 panels (32 keys per K panel, 32 value dims per V
// panel) for the bf16 path. Owned per thread, reused across heads and chunks.
class HeadOperands {
 public:
  HeadOperands(bool bf16, int64_t C, int64_t qk, int64_t vdim, int64_t max_queries)
      : bf16_(bf16), C_(C), qk_(qk), vdim_(vdim) {
    if (!bf16_) {
      kt_.resize(static_cast<size_t>(qk * C));
      v_.resize(static_cast<size_t>(C * vdim));
      return;
    }
    k_panel_ = cpu::avx512::bf16_panel_elems(qk);
    v_panel_ = cpu::avx512::bf16_panel_elems(C);
    staging_.resize(static_cast<size_t>(C * std::max(qk, vdim) + 2));
    pack_.resize(static_cast<size_t>(ceil32(C) * k_panel_ + ceil32(vdim) * v_panel_ + 32));
    qb_.resize(static_cast<size_t>(max_queries * qk));
    pb_.resize(static_cast<size_t>(max_queries * ((C + 1) / 2 * 2)));
  }

  // Head h of the expanded chunk: kv [C][heads][kv_rows] (nope dims, then v),
  // k_pe [C][rope_dim] shared by all heads.
  void load_keys_values(const float* kv, int64_t heads, int64_t kv_rows, int64_t h, int64_t nope, const float* k_pe,
                        int64_t rope_dim, int64_t C) {
    if (!bf16_) {
      for (int64_t p = 0; p < C; ++p) {
        const float* kn = kv + (p * heads + h) * kv_rows;
        for (int64_t d = 0; d < nope; ++d) kt_[d * C_ + p] = kn[d];
        for (int64_t d = 0; d < rope_dim; ++d) kt_[(nope + d) * C_ + p] = k_pe[p * rope_dim + d];
        std::copy(kn + nope, kn + kv_rows, v_.data() + p * vdim_);
      }
      return;
    }
    // Keys: bf16 rows [C][qk], then panels of 32 keys.
    uint16_t* kb = staging_.data();
    for (int64_t p = 0; p < C; ++p) {
      cpu::avx512::to_bf16(kv + (p * heads + h) * kv_rows, nope, kb + p * qk_);
      cpu::avx512::to_bf16(k_pe + p * rope_dim, rope_dim, kb + p * qk_ + nope);
    }
    for (int64_t p0 = 0; p0 < C; p0 += 32)
      cpu::avx512::bf16_pack_panel(kb + p0 * qk_, qk_, qk_, std::min<int64_t>(32, C - p0), k_pack(p0 / 32));
    // Values: bf16 [C][v] (k-major for P V), then panels of 32 value dims.
    uint16_t* vb = staging_.data();
    for (int64_t p = 0; p < C; ++p) cpu::avx512::to_bf16(kv + (p * heads + h) * kv_rows + nope, vdim_, vb + p * vdim_);
    for (int64_t d0 = 0; d0 < vdim_; d0 += 32)
      cpu::avx512::bf16_pack_panel_kmajor(vb + d0, vdim_, C, std::min<int64_t>(32, vdim_ - d0), v_pack(d0 / 32));
  }

  // scores[i][p] = q_i . k_p for i < bm, p < visible (rows C apart).
  void scores(const float* q, int64_t ldq, int64_t bm, int64_t visible, float* scores) {
    if (!bf16_) {
      cpu::gemm_f32(bm, visible, qk_, q, ldq, 1, kt_.data(), C_, scores, C_, false);
      return;
    }
    for (int64_t i = 0; i < bm; ++i) cpu::avx512::to_bf16(q + i * ldq, qk_, qb_.data() + i * qk_);
    for (int64_t p0 = 0; p0 < visible; p0 += 32)
      cpu::avx512::bf16_panel_rows(k_pack(p0 / 32), qk_, std::min<int64_t>(32, visible - p0), qb_.data(), qk_, bm,
                                   scores + p0, C_, false);
  }

  // out[i][d] += sum_p probs[i][p] v_p[d] (probs rows C apart, zero past each
  // row's causal length; out rows ldo apart).
  void accumulate_values(const float* probs, int64_t bm, int64_t visible, float* out, int64_t ldo) {
    if (!bf16_) {
      // Sub-chunks of keys so each V panel stays in L1/L2.
      constexpr int64_t kPanel = 256;
      for (int64_t p0 = 0; p0 < visible; p0 += kPanel)
        cpu::gemm_f32(bm, vdim_, std::min(kPanel, visible - p0), probs + p0, C_, 1, v_.data() + p0 * vdim_, vdim_,
                      out, ldo, true);
      return;
    }
    const int64_t ldp = (visible + 1) / 2 * 2;  // pairs; the pad is 0
    for (int64_t i = 0; i < bm; ++i) {
      uint16_t* row = pb_.data() + i * ldp;
      cpu::avx512::to_bf16(probs + i * C_, visible, row);
      if (visible % 2) row[visible] = 0;
    }
    for (int64_t d0 = 0; d0 < vdim_; d0 += 32)
      cpu::avx512::bf16_panel_rows(v_pack(d0 / 32), visible, std::min<int64_t>(32, vdim_ - d0), pb_.data(), ldp, bm,
                                   out + d0, ldo, true);
  }

 private:
  static int64_t ceil32(int64_t n) { return (n + 31) / 32; }
  uint16_t* aligned() {
    const auto mis = reinterpret_cast<uintptr_t>(pack_.data()) % 64;
    return pack_.data() + (mis ? (64 - mis) / 2 : 0);
  }
  uint16_t* k_pack(int64_t i) { return aligned() + i * k_panel_; }
  uint16_t* v_pack(int64_t i) { return aligned() + ceil32(C_) * k_panel_ + i * v_panel_; }

  bool bf16_;
  int64_t C_, qk_, vdim_, k_panel_ = 0, v_panel_ = 0;
  std::vector<float> kt_, v_;
  std::vector<uint16_t> staging_, pack_, qb_, pb_;
};

}  // namespace

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
          ops.load_keys_values(kv.data(), heads, kv_rows, h, nope, k_pe.data(), rope_dim, C);
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
