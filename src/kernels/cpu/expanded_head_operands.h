#pragma once
// Per-head operands of the expanded (prefill) MLA attention.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/aligned_buffer.h"
#include "kernels/cpu/amx_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_f32.h"
#include "kernels/cpu/linear_avx512.h"

namespace dsinfer::cpu {

// One head's keys and values for a chunk of C keys, in the layout the score
// (Q K^T) and value (P V) GEMMs read: float32 K^T [qk][C] and V [C][v] for the
// exact path, or packed bf16 panels (32 keys per K panel, 32 value dims per V
// panel) for the bf16 path; with AMX-BF16 (qk and vdim multiples of 32) bf16
// keys [C][qk] read in place as weight tiles against the queries as token
// tiles, and values in pair layout against the probabilities. Owned per
// thread, reused across heads and chunks.
class HeadOperands {
 public:
  HeadOperands(bool bf16, int64_t C, int64_t qk, int64_t vdim, int64_t max_queries)
      : bf16_(bf16), C_(C), qk_(qk), vdim_(vdim) {
    if (!bf16_) {
      kt_.resize(static_cast<size_t>(qk * C));
      v_.resize(static_cast<size_t>(C * vdim));
      return;
    }
    tiles_ = cpu_features().amx_bf16 && qk % 32 == 0 && vdim % 32 == 0;
    if (tiles_) {
      cp_ = (C + 31) / 32 * 32;
      const int64_t mp = (max_queries + 15) / 16 * 16;  // queries to whole token tiles
      kb_.resize(static_cast<size_t>(C * qk));
      vb_.assign(static_cast<size_t>(cp_ * vdim), 0);  // rows past C stay 0
      vpairs_.resize(static_cast<size_t>(cp_ * vdim));
      qb_.resize(static_cast<size_t>(max_queries * qk));
      qt_.resize(static_cast<size_t>(amx::x_tiles_bytes(max_queries, qk * 2)));
      pb_.assign(static_cast<size_t>(mp * cp_), 0);
      tmp_.resize(static_cast<size_t>(mp * vdim));
      return;
    }
    k_panel_ = avx512::bf16_panel_elems(qk);
    v_panel_ = avx512::bf16_panel_elems(C);
    staging_.resize(static_cast<size_t>(C * std::max(qk, vdim)));
    packs_.resize(static_cast<size_t>(ceil32(C) * k_panel_ + ceil32(vdim) * v_panel_));
    qb_.resize(static_cast<size_t>(max_queries * qk));
    pb_.resize(static_cast<size_t>(max_queries * ((C + 1) / 2 * 2)));
  }

  // Head h of the expanded chunk: kv [C][heads][kv_rows] (nope dims, then v),
  // k_pe [C][rope_dim] shared by all heads.
  void load_keys_values(const float* kv, int64_t heads, int64_t kv_rows, int64_t h, int64_t nope, const float* k_pe,
                        int64_t rope_dim) {
    const int64_t C = C_;
    if (tiles_) {
      for (int64_t p = 0; p < C; ++p) {
        const float* kn = kv + (p * heads + h) * kv_rows;
        avx512::to_bf16(kn, nope, kb_.data() + p * qk_);
        avx512::to_bf16(k_pe + p * rope_dim, rope_dim, kb_.data() + p * qk_ + nope);
        avx512::to_bf16(kn + nope, vdim_, vb_.data() + p * vdim_);
      }
      amx::pack_pairs(vb_.data(), vdim_, cp_, vdim_, vpairs_.data());
      return;
    }
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
      avx512::to_bf16(kv + (p * heads + h) * kv_rows, nope, kb + p * qk_);
      avx512::to_bf16(k_pe + p * rope_dim, rope_dim, kb + p * qk_ + nope);
    }
    for (int64_t p0 = 0; p0 < C; p0 += 32)
      avx512::bf16_pack_panel(kb + p0 * qk_, qk_, qk_, std::min<int64_t>(32, C - p0), k_pack(p0 / 32));
    // Values: bf16 [C][v] (k-major for P V), then panels of 32 value dims.
    uint16_t* vb = staging_.data();
    for (int64_t p = 0; p < C; ++p) avx512::to_bf16(kv + (p * heads + h) * kv_rows + nope, vdim_, vb + p * vdim_);
    for (int64_t d0 = 0; d0 < vdim_; d0 += 32)
      avx512::bf16_pack_panel_kmajor(vb + d0, vdim_, C, std::min<int64_t>(32, vdim_ - d0), v_pack(d0 / 32));
  }

  // scores[i][p] = q_i . k_p for i < bm, p < visible (rows C apart).
  void scores(const float* q, int64_t ldq, int64_t bm, int64_t visible, float* scores) {
    if (!bf16_) {
      gemm_f32(bm, visible, qk_, q, ldq, 1, kt_.data(), C_, scores, C_, false);
      return;
    }
    for (int64_t i = 0; i < bm; ++i) avx512::to_bf16(q + i * ldq, qk_, qb_.data() + i * qk_);
    if (tiles_) {  // keys as 16-row weight tiles, the queries as token tiles; a key tail on the dot form
      amx::pack_x_tiles(qb_.data(), bm, qk_ * 2, qt_.data());
      const int64_t whole = amx::whole_tiles_end(0, visible);
      if (whole > 0) amx::bf16_rows(kb_.data(), qk_, 0, whole, qt_.data(), 0, bm, scores, C_, 0);
      if (whole < visible) avx512::bf16_rows(kb_.data(), qk_, whole, visible, qb_.data(), 0, bm, scores, C_, 0);
      return;
    }
    for (int64_t p0 = 0; p0 < visible; p0 += 32)
      avx512::bf16_panel_rows(k_pack(p0 / 32), qk_, std::min<int64_t>(32, visible - p0), qb_.data(), qk_, bm,
                                   scores + p0, C_, false);
  }

  // out[i][d] += sum_p probs[i][p] v_p[d] (probs rows C apart, zero past each
  // row's causal length; out rows ldo apart).
  void accumulate_values(const float* probs, int64_t bm, int64_t visible, float* out, int64_t ldo) {
    if (!bf16_) {
      // Sub-chunks of keys so each V panel stays in L1/L2.
      constexpr int64_t kPanel = 256;
      for (int64_t p0 = 0; p0 < visible; p0 += kPanel)
        gemm_f32(bm, vdim_, std::min(kPanel, visible - p0), probs + p0, C_, 1, v_.data() + p0 * vdim_, vdim_,
                      out, ldo, true);
      return;
    }
    if (tiles_) {
      // probs [bm -> 16s][visible -> 32s] (pads 0) x values in pair layout,
      // then added to out (rows past bm are not out's to write).
      const int64_t kp = (visible + 31) / 32 * 32, mp = (bm + 15) / 16 * 16;
      for (int64_t i = 0; i < mp; ++i) {
        uint16_t* row = pb_.data() + i * cp_;
        if (i < bm) avx512::to_bf16(probs + i * C_, visible, row);
        std::fill(row + (i < bm ? visible : 0), row + kp, uint16_t{0});
      }
      amx::bf16_gemm_pairs(pb_.data(), cp_, vpairs_.data(), 2 * vdim_, tmp_.data(), vdim_, mp, vdim_, kp, false);
      for (int64_t i = 0; i < bm; ++i)
        for (int64_t d = 0; d < vdim_; ++d) out[i * ldo + d] += tmp_[i * vdim_ + d];
      return;
    }
    const int64_t ldp = (visible + 1) / 2 * 2;  // pairs; the pad is 0
    for (int64_t i = 0; i < bm; ++i) {
      uint16_t* row = pb_.data() + i * ldp;
      avx512::to_bf16(probs + i * C_, visible, row);
      if (visible % 2) row[visible] = 0;
    }
    for (int64_t d0 = 0; d0 < vdim_; d0 += 32)
      avx512::bf16_panel_rows(v_pack(d0 / 32), visible, std::min<int64_t>(32, vdim_ - d0), pb_.data(), ldp, bm,
                                   out + d0, ldo, true);
  }

 private:
  static int64_t ceil32(int64_t n) { return (n + 31) / 32; }
  uint16_t* k_pack(int64_t i) { return packs_.data() + i * k_panel_; }
  uint16_t* v_pack(int64_t i) { return packs_.data() + ceil32(C_) * k_panel_ + i * v_panel_; }

  bool bf16_, tiles_ = false;
  int64_t C_, qk_, vdim_, k_panel_ = 0, v_panel_ = 0, cp_ = 0;  // cp_: C rounded up to 32 (tiles' k)
  std::vector<uint16_t> kb_, vb_, vpairs_;
  std::vector<uint8_t> qt_;
  std::vector<float> tmp_;
  std::vector<float> kt_, v_;
  Aligned64<uint16_t> packs_;
  std::vector<uint16_t> staging_, qb_, pb_;
};

}  // namespace dsinfer::cpu
