#pragma once
// Absorbed MLA decode over bf16 operands (ComputePrecision::BF16): the
// flash-decoding loop of one query token over a range of cached positions.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/aligned_buffer.h"
#include "kernels/cpu/amx_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/linear_avx512.h"
#include "backend/latent_pages.h"
#include "kernels/cpu/online_softmax.h"

namespace dsinfer::cpu {

// The absorbed flash-decoding loop of one token over positions [p0, p1) with
// bf16 operands (ComputePrecision::BF16): per block of kBlock cached
// positions, scores = packed query panels (32 heads each) x the block's bf16
// latents, values = the block packed k-major (32 latent dims per panel) x the
// transposed bf16 probabilities, into a[h][d]; float32 softmax and sums.
// With AMX-BF16 both products run on tiles (the same bf16 operands and
// float32 sums): scores = the query rows (heads padded to 16, width to 32)
// x the block's latents as position tiles, values = the probabilities
// [head][position] x the block's latents in pair layout.
class LatentBlocksBf16 {
 public:
  static constexpr int64_t kBlock = 64;

  LatentBlocksBf16(int64_t heads, int64_t kw, int64_t rank)
      : heads_(heads), kw_(kw), rank_(rank), hp_((heads + 15) / 16 * 16), hpan_((heads + 31) / 32),
        dpan_((rank + 31) / 32) {
    lat_.resize(static_cast<size_t>(kw));
    scb_.resize(static_cast<size_t>(kBlock * hp_));
    sc_.resize(static_cast<size_t>(kBlock * hp_));
    alpha_.resize(static_cast<size_t>(hp_));
    block_max_.resize(static_cast<size_t>(hp_));
    tiles_ = cpu_features().amx_bf16 && rank % 32 == 0;
    if (tiles_) {  // only the tiles' operands
      kwp_ = (kw + 31) / 32 * 32;
      qp_.assign(static_cast<size_t>(hp_ * kwp_), 0);  // padding rows and columns stay 0
      blkp_.assign(static_cast<size_t>(kBlock * kwp_), 0);
      ptp_.assign(static_cast<size_t>(hp_ * kBlock), 0);
      vpair_.resize(static_cast<size_t>(kBlock * rank));
      xt_.resize(static_cast<size_t>(amx::x_tiles_bytes(kBlock, kwp_ * 2)));
      return;
    }
    q_panel_ = avx512::bf16_panel_elems(kw);
    v_panel_ = avx512::bf16_panel_elems(kBlock);
    packs_.resize(static_cast<size_t>(hpan_ * q_panel_ + dpan_ * v_panel_));
    qrows_.resize(static_cast<size_t>(heads * kw));
    blk_.resize(static_cast<size_t>(kBlock * kw));
    pt_.resize(static_cast<size_t>(hp_ * kBlock));
  }

  // Whether this object serves that shape (its buffers are sized by it).
  bool fits(int64_t heads, int64_t kw, int64_t rank) const { return heads == heads_ && kw == kw_ && rank == rank_; }

  // q_lat: head h's absorbed latent query at q_lat + h * q_lat_head_stride;
  // q_pe: head h's rope part at q_pe + h * q_pe_head_stride. Writes the
  // unnormalized output a[h][d] (hp = heads rounded up to 16 rows of rank:
  // by head, as the tiles produce it), running max m and sum l (hp each).
  void attend(const float* q_lat, int64_t q_lat_head_stride, const float* q_pe, int64_t q_pe_head_stride,
              const LatentPageTable& cache, int64_t p0, int64_t p1, float scale,
              float* a, float* m, float* l) {
    if (tiles_) {
      attend_tiles(q_lat, q_lat_head_stride, q_pe, q_pe_head_stride, cache, p0, p1, scale, a, m, l);
      return;
    }
    const int64_t rope_dim = kw_ - rank_;
    for (int64_t h = 0; h < heads_; ++h) {
      avx512::to_bf16(q_lat + h * q_lat_head_stride, rank_, qrows_.data() + h * kw_);
      avx512::to_bf16(q_pe + h * q_pe_head_stride, rope_dim, qrows_.data() + h * kw_ + rank_);
    }
    for (int64_t i = 0; i < hpan_; ++i)
      avx512::bf16_pack_panel(qrows_.data() + 32 * i * kw_, kw_, kw_, std::min<int64_t>(32, heads_ - 32 * i),
                                   q_pack(i));
    std::fill(a, a + hp_ * rank_, 0.f);
    bool first = true;
    for (int64_t b0 = p0; b0 < p1; b0 += kBlock) {
      const int64_t n = std::min(kBlock, p1 - b0), n2 = (n + 1) / 2 * 2;
      load_block(cache, b0, n, blk_.data(), kw_);
      // sc[p][h] = blk[p] . q_h
      for (int64_t i = 0; i < hpan_; ++i)
        avx512::bf16_panel_rows(q_pack(i), kw_, std::min<int64_t>(32, heads_ - 32 * i), blk_.data(), kw_, n,
                                     sc_.data() + 32 * i, hp_, false);
      softmax_block(n, scale, first, m, l, a);
      // pt[h][p] = bf16(sc[p][h]), zero past n (pairs): transposed.
      for (int64_t h = 0; h < heads_; ++h) {
        for (int64_t p = 0; p < n; ++p) pt_[h * n2 + p] = scb_[p * hp_ + h];
        if (n2 > n) pt_[h * n2 + n] = 0;
      }
      // a[h][d] += sum_p pt[h][p] blk[p][d]
      for (int64_t j = 0; j < dpan_; ++j) {
        const int64_t nr = std::min<int64_t>(32, rank_ - 32 * j);
        avx512::bf16_pack_panel_kmajor(blk_.data() + 32 * j, kw_, n, nr, v_pack(j));
        avx512::bf16_panel_rows(v_pack(j), n, nr, pt_.data(), n2, heads_, a + 32 * j, rank_, true);
      }
      first = false;
    }
  }

 private:
  // The block's scores sc[p][h] (n rows) into probabilities (online softmax,
  // running m, l), what was accumulated rescaled where a head's max moved,
  // and the probabilities as bf16 in scb.
  void softmax_block(int64_t n, float scale, bool first, float* m, float* l, float* a) {
    online_softmax_block(sc_.data(), n, hp_, scale, first, m, l, alpha_.data(), block_max_.data());
    if (!first)
      for (int64_t h = 0; h < heads_; ++h)
        if (alpha_[h] != 1.f)
          for (int64_t d = 0; d < rank_; ++d) a[h * rank_ + d] *= alpha_[h];
    avx512::to_bf16(sc_.data(), n * hp_, scb_.data());
  }

  // Positions [b0, b0 + n) as bf16 [latent | k_pe] rows, ld apart.
  void load_block(const LatentPageTable& cache, int64_t b0, int64_t n, uint16_t* out, int64_t ld) {
    const int64_t rope_dim = kw_ - rank_;
    for (int64_t i = 0; i < n; ++i) {
      if (!cache.layout.latent_int8) {  // converted in place
        avx512::to_bf16(cache.float_row(b0 + i), kw_, out + i * ld);
        continue;
      }
      cache.load_latent(b0 + i, lat_.data());  // C8: dequantize first
      const float* kpe = cache.k_pe(b0 + i);
      std::copy(kpe, kpe + rope_dim, lat_.data() + rank_);
      avx512::to_bf16(lat_.data(), kw_, out + i * ld);
    }
  }

  void attend_tiles(const float* q_lat, int64_t q_lat_head_stride, const float* q_pe, int64_t q_pe_head_stride,
                    const LatentPageTable& cache, int64_t p0, int64_t p1, float scale, float* a, float* m,
                    float* l) {
    const int64_t rope_dim = kw_ - rank_;
    for (int64_t h = 0; h < heads_; ++h) {
      avx512::to_bf16(q_lat + h * q_lat_head_stride, rank_, qp_.data() + h * kwp_);
      avx512::to_bf16(q_pe + h * q_pe_head_stride, rope_dim, qp_.data() + h * kwp_ + rank_);
    }
    bool first = true;
    for (int64_t b0 = p0; b0 < p1; b0 += kBlock) {
      const int64_t n = std::min(kBlock, p1 - b0), kp = (n + 31) / 32 * 32;
      load_block(cache, b0, n, blkp_.data(), kwp_);
      // Rows past n meet zero probabilities below; they must only be finite.
      if (n < kp) std::fill(blkp_.begin() + n * kwp_, blkp_.begin() + kp * kwp_, uint16_t{0});
      // sc[p][h] = blk[p] . q_h (positions as the tiles' tokens)
      amx::pack_x_tiles(blkp_.data(), n, kwp_ * 2, xt_.data());
      amx::bf16_rows(qp_.data(), kwp_, 0, hp_, xt_.data(), 0, n, sc_.data(), hp_, 0);
      softmax_block(n, scale, first, m, l, a);
      // ptp[h][p] = bf16(sc[p][h]), zero from n to kp.
      for (int64_t h = 0; h < hp_; ++h) {
        uint16_t* row = ptp_.data() + h * kBlock;
        for (int64_t p = 0; p < n; ++p) row[p] = scb_[p * hp_ + h];
        std::fill(row + n, row + kp, uint16_t{0});
      }
      // a[h][d] (+)= sum_p ptp[h][p] blk[p][d]: the first block writes (the
      // tiles start from zero, as a zeroed a would), later ones accumulate.
      amx::pack_pairs(blkp_.data(), kwp_, kp, rank_, vpair_.data());
      amx::bf16_gemm_pairs(ptp_.data(), kBlock, vpair_.data(), 2 * rank_, a, rank_, hp_, rank_, kp, !first);
      first = false;
    }
  }

  uint16_t* q_pack(int64_t i) { return packs_.data() + i * q_panel_; }
  uint16_t* v_pack(int64_t j) { return packs_.data() + hpan_ * q_panel_ + j * v_panel_; }

  int64_t heads_, kw_, rank_, hp_, hpan_, dpan_, q_panel_ = 0, v_panel_ = 0;
  cpu::Aligned64<uint16_t> packs_;
  AlignedVector<uint16_t> qrows_, blk_, pt_, scb_;
  AlignedVector<float> lat_, sc_, alpha_, block_max_;
  bool tiles_ = false;  // AMX-BF16 (attend_tiles)
  int64_t kwp_ = 0;     // kw rounded up to 32 (tile width)
  AlignedVector<uint16_t> qp_, blkp_, ptp_, vpair_;
  std::vector<uint8_t> xt_;
};

}  // namespace dsinfer::cpu
