// Absorbed MLA decode under bf16 compute against float64 loops: the query
// absorption (exact float32 products: kv_b stays exact under bf16 compute)
// and the flash-decoding core (AMX tiles on CPUs with AMX-BF16) over several
// 64-position blocks (the running max moves between blocks, the last block
// is partial), on a float32 cache; a token's result is the same alone as
// among others (MTP verify steps must reproduce plain decode).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "backend/latent_pages.h"
#include "backend/ops.h"
#include "io/numeric_formats.h"
#include "kernels/cpu/amx_linear.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/mla_attention_cpu.h"
#include "support/random_data.h"
#include "support/stored_weight.h"

namespace dsinfer {
namespace {

float round_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

using test::uniform_floats;

MlaShape shape() {
  MlaShape s;
  s.heads = 20, s.qk_nope = 64, s.qk_rope = 16, s.v_head = 32, s.rank = 128;  // heads pad to 32, kw = 144 to 160
  s.softmax_scale = 0.6f;
  s.bf16 = true;
  return s;
}

// A float32 latent cache of L positions holding rows [L][rank + rope], in
// pages of 16 (in reverse order when `shuffled`: the page table is honoured).
struct FloatCache {
  std::vector<float> storage;
  std::vector<int32_t> pages;
  LatentPageTable table;
  FloatCache(const MlaShape& s, const std::vector<float>& rows, int64_t L, bool shuffled) {
    const int64_t kw = s.rank + s.qk_rope, page = 16, n_pages = (L + page - 1) / page;
    LatentRowLayout layout;
    layout.page_size = page, layout.latent_dim = s.rank, layout.rope_dim = s.qk_rope;
    layout.latent_bytes = static_cast<size_t>(s.rank) * 4, layout.row_bytes = static_cast<size_t>(kw) * 4;
    storage.resize(static_cast<size_t>(n_pages * page * kw));
    for (int64_t i = 0; i < n_pages; ++i) pages.push_back(static_cast<int32_t>(shuffled ? n_pages - 1 - i : i));
    table = LatentPageTable{layout, reinterpret_cast<uint8_t*>(storage.data()), layout.layer_bytes(), 0, pages.data(),
                            n_pages, 0.f};
    for (int64_t p = 0; p < L; ++p) {
      table.store_latent(p, rows.data() + p * kw);
      std::copy(rows.data() + p * kw + s.rank, rows.data() + (p + 1) * kw, table.k_pe(p));
    }
  }
};

// kv_b as bf16 (a converted checkpoint) or FP8 with 128 x 128 block scales
// (the release format; heads straddle scale blocks; every e4m3 code,
// subnormals included). Token counts on both sides of the fused kernel's
// limit: a token alone (fused) gets the bits it gets among 17 or 21 (GEMM).
using KvB = test::StoredWeight;
KvB make_kv_b(const MlaShape& s, WeightFormat format) {
  KvB k;
  k.w.format = format, k.w.rows = s.heads * s.kv_rows(), k.w.cols = s.rank;
  k.w.bf16_inputs = false;  // as apply_compute_precision leaves it
  const auto wf = uniform_floats(static_cast<size_t>(k.w.rows * k.w.cols), 3);
  if (format == WeightFormat::BF16) {
    for (float v : wf) k.bf16.push_back(float_to_bf16(v));
    k.w.data = k.bf16.data();
    return k;
  }
  std::mt19937 rng(11);
  for (size_t i = 0; i < wf.size(); ++i) {
    auto code = static_cast<uint8_t>(rng() & 0xff);
    if ((code & 0x7f) == 0x7f) code = 0x08;  // no NaN
    k.fp8.push_back(code);
  }
  k.w.block_rows = 128, k.w.block_cols = 64;
  const int64_t n_scales = (k.w.rows + 127) / 128 * k.w.scale_cols();
  k.scale = uniform_floats(static_cast<size_t>(n_scales), 9, 0.001f, 0.01f);
  k.w.data = k.fp8.data(), k.w.scale = k.scale.data();
  return k;
}

TEST(MlaBf16, AbsorbedQueryMatchesFloat64) {
  const MlaShape s = shape();
  for (WeightFormat format : {WeightFormat::BF16, WeightFormat::Fp8Block}) {
    const KvB kv_b = make_kv_b(s, format);
    // dequant_row (the GEMM form's copy) is exact.
    std::vector<float> row(static_cast<size_t>(s.rank));
    for (int64_t r : {int64_t{0}, int64_t{127}, int64_t{128}, kv_b.w.rows - 1}) {
      cpu::dequant_row(kv_b.w, r, row.data());
      for (int64_t c = 0; c < s.rank; ++c) ASSERT_EQ(row[static_cast<size_t>(c)], kv_b.value(r, c)) << r << " " << c;
    }
    for (int64_t T : {1, 2, 3, 4, 5, 8, 16, 17, 21}) {
      const auto q = uniform_floats(static_cast<size_t>(T * s.heads * s.qk()), 5 + static_cast<unsigned>(T));
      std::vector<float> q_lat(static_cast<size_t>(s.heads * T * s.rank), 42.f);
      cpu::mla_absorb_query(s, kv_b.w, q.data(), T, q_lat.data());
      // The last token alone: bit for bit what it got among the others.
      std::vector<float> one(static_cast<size_t>(s.heads * s.rank));
      cpu::mla_absorb_query(s, kv_b.w, q.data() + (T - 1) * s.heads * s.qk(), 1, one.data());
      for (int64_t h = 0; h < s.heads; ++h)
        for (int64_t r = 0; r < s.rank; ++r)
          ASSERT_EQ(one[h * s.rank + r], q_lat[(h * T + T - 1) * s.rank + r]) << "T" << T << " h" << h << " r" << r;
      for (int64_t h = 0; h < s.heads; ++h)
        for (int64_t t = 0; t < T; ++t)
          for (int64_t r = 0; r < s.rank; ++r) {
            double ref = 0.0, mag = 0.0;
            for (int64_t d = 0; d < s.qk_nope; ++d) {
              const float x = q[t * s.heads * s.qk() + h * s.qk() + d];
              const double p = double(x) * kv_b.value(h * s.kv_rows() + d, r);
              ref += p, mag += std::fabs(p);
            }
            ASSERT_NEAR(q_lat[(h * T + t) * s.rank + r], ref, 1e-6 * mag + 1e-9)
                << "T" << T << " h" << h << " t" << t << " r" << r;
          }
    }
  }
}

TEST(MlaBf16, DecodeCoreMatchesFloat64OverBlocks) {
  if (!cpu::cpu_features().avx512_bf16) GTEST_SKIP() << "no AVX512_BF16: bf16 attention runs the float32 kernel";
  const MlaShape s = shape();
  const int64_t kw = s.rank + s.qk_rope;
  // One scratch for every call, as the backend keeps it: nothing may depend
  // on what an earlier call left there.
  cpu::MlaScratch scratch;
  // 3 tokens over 200 positions (4 blocks: 64, 64, 64, 8); one token over
  // 700, whose context is split over the threads and merged (>= 2 threads).
  for (const auto& [T, L] : {std::pair<int64_t, int64_t>{3, 200}, {1, 700}, {3, 200}}) {
  const auto rows = uniform_floats(static_cast<size_t>(L * kw), 9);
  FloatCache fc(s, rows, L, true);
  const LatentPageTable& cache = fc.table;
  // A slope over positions moves each head's running max from block to block.
  const auto q_lat = uniform_floats(static_cast<size_t>(s.heads * T * s.rank), 11);
  const auto q = uniform_floats(static_cast<size_t>(T * s.heads * s.qk()), 13, -2.f, 2.f);
  const AttentionSeq seq{cache, 0, T, L - T};
  std::vector<float> out(static_cast<size_t>(s.heads * T * s.rank));
  cpu::mla_decode_attention(s, std::span<const AttentionSeq>(&seq, 1), q_lat.data(), q.data(), T, out.data(), scratch);
  // The last token alone: bit for bit what it got among the three.
  {
    const AttentionSeq last{cache, 0, 1, L - 1};
    std::vector<float> q_lat1(static_cast<size_t>(s.heads * s.rank)), q1(q.end() - s.heads * s.qk(), q.end());
    for (int64_t h = 0; h < s.heads; ++h)
      std::copy(q_lat.begin() + (h * T + T - 1) * s.rank, q_lat.begin() + (h * T + T) * s.rank, q_lat1.begin() + h * s.rank);
    std::vector<float> out1(q_lat1.size());
    cpu::mla_decode_attention(s, std::span<const AttentionSeq>(&last, 1), q_lat1.data(), q1.data(), 1, out1.data(), scratch);
    for (int64_t h = 0; h < s.heads; ++h)
      for (int64_t d = 0; d < s.rank; ++d)
        ASSERT_EQ(out1[h * s.rank + d], out[(h * T + T - 1) * s.rank + d]) << "h" << h << " d" << d;
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < s.heads; ++h) {
      const int64_t len = L - T + t + 1;
      std::vector<double> sc(static_cast<size_t>(len));
      double mx = -INFINITY;
      for (int64_t p = 0; p < len; ++p) {
        double v = 0.0;
        for (int64_t k = 0; k < s.rank; ++k)
          v += double(round_bf16(q_lat[(h * T + t) * s.rank + k])) * round_bf16(rows[p * kw + k]);
        for (int64_t k = 0; k < s.qk_rope; ++k)
          v += double(round_bf16(q[t * s.heads * s.qk() + h * s.qk() + s.qk_nope + k])) * round_bf16(rows[p * kw + s.rank + k]);
        sc[static_cast<size_t>(p)] = v * s.softmax_scale;
        mx = std::max(mx, sc[static_cast<size_t>(p)]);
      }
      double den = 0.0;
      for (auto& v : sc) den += (v = std::exp(v - mx));
      for (int64_t d = 0; d < s.rank; ++d) {
        double ref = 0.0;
        for (int64_t p = 0; p < len; ++p) ref += sc[static_cast<size_t>(p)] * round_bf16(rows[p * kw + d]);
        ref /= den;
        // Probabilities meet the values rounded to bf16 (2^-9 relative each).
        ASSERT_NEAR(out[(h * T + t) * s.rank + d], ref, 4e-3) << "t" << t << " h" << h << " d" << d;
      }
    }
  }
}

// Expanded (prefill) attention under bf16 compute: 70 new tokens after 30
// cached (two query blocks, a partial key tile) against float64 over the
// same bf16-rounded queries, keys, values (kv_b exact, as under bf16
// compute), probabilities rounded as the kernel rounds them (2^-9 each).
TEST(MlaBf16, PrefillMatchesFloat64) {
  if (!cpu::cpu_features().avx512_bf16) GTEST_SKIP() << "no AVX512_BF16: bf16 attention runs the float32 kernel";
  MlaShape s = shape();
  s.qk_rope = 32, s.v_head = 64;  // qk = 96 and v = 64: multiples of 32 (the AMX tiles' widths)
  const int64_t kw = s.rank + s.qk_rope, start = 30, n = 70, L = start + n;
  const auto rows = uniform_floats(static_cast<size_t>(L * kw), 17);
  FloatCache fc(s, rows, L, false);
  const LatentPageTable& cache = fc.table;
  const auto wf = uniform_floats(static_cast<size_t>(s.heads * s.kv_rows() * s.rank), 19, -0.2f, 0.2f);
  LinearWeight kv_b;
  kv_b.format = WeightFormat::F32, kv_b.rows = s.heads * s.kv_rows(), kv_b.cols = s.rank, kv_b.data = wf.data();
  const auto q = uniform_floats(static_cast<size_t>(n * s.heads * s.qk()), 23);
  const AttentionSeq seq{cache, 0, n, start};
  std::vector<float> o(static_cast<size_t>(n * s.heads * s.v_head));
  cpu::MlaScratch ws;
  cpu::mla_prefill_attention(s, kv_b, std::span<const AttentionSeq>(&seq, 1), q.data(), o.data(), ws);
  // kv[p][h][j] = W_h[j] . latent[p], in float32 as the kernel's linear, then bf16.
  std::vector<float> kv(static_cast<size_t>(L * s.heads * s.kv_rows()));
  for (int64_t p = 0; p < L; ++p)
    for (int64_t j = 0; j < s.heads * s.kv_rows(); ++j) {
      double v = 0.0;
      for (int64_t k = 0; k < s.rank; ++k) v += double(wf[j * s.rank + k]) * rows[p * kw + k];
      kv[p * s.heads * s.kv_rows() + j] = round_bf16(static_cast<float>(v));
    }
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t h = 0; h < s.heads; ++h) {
      const int64_t len = start + i + 1;
      std::vector<double> sc(static_cast<size_t>(len));
      double mx = -INFINITY;
      for (int64_t p = 0; p < len; ++p) {
        const float* qh = q.data() + (i * s.heads + h) * s.qk();
        const float* kh = kv.data() + (p * s.heads + h) * s.kv_rows();
        double v = 0.0;
        for (int64_t d = 0; d < s.qk_nope; ++d) v += double(round_bf16(qh[d])) * kh[d];
        for (int64_t d = 0; d < s.qk_rope; ++d) v += double(round_bf16(qh[s.qk_nope + d])) * round_bf16(rows[p * kw + s.rank + d]);
        sc[static_cast<size_t>(p)] = v * s.softmax_scale;
        mx = std::max(mx, sc[static_cast<size_t>(p)]);
      }
      double den = 0.0;
      for (auto& v : sc) den += (v = std::exp(v - mx));
      for (int64_t d = 0; d < s.v_head; ++d) {
        double ref = 0.0, mag = 0.0;
        for (int64_t p = 0; p < len; ++p) {
          const double v = kv[(p * s.heads + h) * s.kv_rows() + s.qk_nope + d];
          ref += sc[static_cast<size_t>(p)] * v, mag += sc[static_cast<size_t>(p)] * std::fabs(v);
        }
        ref /= den, mag /= den;
        // bf16 probabilities (2^-9 each) and scores (through exp): 2^-7 of the magnitude.
        const double err = std::fabs(o[(i * s.heads + h) * s.v_head + d] - ref) / (mag + 1e-6);
        worst = std::max(worst, err);
        ASSERT_LT(err, 0x1p-7) << "i" << i << " h" << h << " d" << d;
      }
    }
  std::printf("[mla bf16 prefill] worst error %.2e of the magnitude\n", worst);
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

// bf16 A [m][k] and B [k][n] (B also in pair layout) and a float32 C to
// start from, for bf16_gemm_pairs; reference() is float64 over the same.
struct PairsOperands {
  int64_t m, k, n;
  std::vector<uint16_t> a, b, pairs;
  std::vector<float> c0;
  PairsOperands(int64_t m_, int64_t k_, int64_t n_, unsigned seed)
      : m(m_), k(k_), n(n_), a(test::bf16_bits(uniform_floats(static_cast<size_t>(m * k), seed))),
        b(test::bf16_bits(uniform_floats(static_cast<size_t>(k * n), seed + 1))), pairs(b.size()),
        c0(uniform_floats(static_cast<size_t>(m * n), seed + 2)) {
    cpu::amx::pack_pairs(b.data(), n, k, n, pairs.data());
  }
  // c [m][n] (+)= a x b over the first `cols` columns.
  void gemm(float* c, int64_t cols, bool accumulate) const {
    cpu::amx::bf16_gemm_pairs(a.data(), k, pairs.data(), 2 * n, c, n, m, cols, k, accumulate);
  }
  double reference(int64_t i, int64_t j, bool accumulate) const {
    double ref = accumulate ? c0[i * n + j] : 0.0;
    for (int64_t kk = 0; kk < k; ++kk) ref += double(bf16_to_float(a[i * k + kk])) * bf16_to_float(b[kk * n + j]);
    return ref;
  }
};

// The value GEMM's k = 64 form (B tiles kept across row tiles) sums each
// output in the order of the general form: same bits, and near float64.
TEST(AmxGemmPairs, PositionBlockFormEqualsTheGeneralForm) {
  if (!cpu::cpu_features().amx_bf16) GTEST_SKIP() << "no AMX-BF16";
  const PairsOperands o(48, 64, 96, 21);
  const int64_t m = o.m, n = o.n;
  std::vector<float> fast = o.c0, general = o.c0;
  o.gemm(fast.data(), n, true);
  // n = 80 (not a multiple of 32) takes the general form over the same operands.
  o.gemm(general.data(), 80, true);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (j < 80) ASSERT_EQ(fast[i * n + j], general[i * n + j]) << i << "," << j;
      else ASSERT_EQ(general[i * n + j], o.c0[i * n + j]) << "wrote past n";
      ASSERT_NEAR(fast[i * n + j], o.reference(i, j, true), 1e-4) << i << "," << j;
    }
}

// The general form's 2 x 2 tiles (rows and columns in pairs; m = 48: one
// pair of row tiles and a single one) against its one-tile loop (n = 80,
// not a multiple of 32, takes only that): same bits, written and
// accumulated, and near float64.
TEST(AmxGemmPairs, PairedTilesEqualTheOneTileLoop) {
  if (!cpu::cpu_features().amx_bf16) GTEST_SKIP() << "no AMX-BF16";
  const PairsOperands o(48, 160, 96, 31);
  const int64_t m = o.m, n = o.n;
  for (const bool accumulate : {false, true}) {
    std::vector<float> paired = o.c0, single = o.c0;
    o.gemm(paired.data(), n, accumulate);
    o.gemm(single.data(), 80, accumulate);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < 80; ++j) {
        ASSERT_EQ(paired[i * n + j], single[i * n + j]) << i << "," << j << " accumulate " << accumulate;
        ASSERT_NEAR(paired[i * n + j], o.reference(i, j, accumulate), 1e-4) << i << "," << j;
      }
  }
}

}  // namespace
}  // namespace dsinfer
