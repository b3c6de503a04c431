// gemv_bench: the decode GEMV/GEMM kernels (cpu::linear_rows, the entry the
// model calls) on R1 shapes for 1-32 tokens, judged two ways in one run:
//  - from memory, all threads: weights cycled over >= 4x the last-level cache,
//    GB/s over the all-thread read ceiling measured in the same run;
//  - from L2, one thread: one ~1 MB matrix re-read, GB/s over the one-thread
//    read ceiling. A ratio well above 1 means the kernel's own instruction
//    stream is not what limits it on a core whose memory is faster;
//  - from memory, multiply-add ops per second over the peak of the unit
//    the format computes on (int8; bf16 dot products for bf16x where
//    present; else float32 FMA): what binds batched calls.
// Usage: gemv_bench [--quick] [--tokens 1,8,32] [--formats int8,fp8,bf16,bf16x,bf16p,fp8p] [--absorb] [--attention]
//                   [--context N]
//   bf16x: bf16 weights with bf16-rounded inputs (ComputePrecision::BF16).
//   bf16p, fp8p: bf16 / FP8 weights as the backend packs them at load
//   (Ops::pack_weight: 16-row panels on AVX2 without AVX-512; elsewhere as
//   bf16 / fp8).
//   --absorb: instead, the MLA query absorption (q_nope x W_UK per head, R1's
//   kv_b) both ways, interleaved in this run: W_UK read once into register
//   accumulators (cpu::left_multiply_rows) vs dequantized + gemm_f32.
//   --attention: instead, the absorbed decode attention core
//   (cpu::mla_decode_attention, R1 heads/rank, a float32 cache of
//   --context positions (8192), one sequence per token) under float32 and bf16 compute,
//   FLOP/s over the peak measured in this run.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/machine_ceilings.h"
#include "kernels/cpu/load_panels.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/gemm_f32.h"
#include "kernels/cpu/mla_attention_cpu.h"
#include "backend/latent_pages.h"
#include "backend/ops.h"

using namespace dsinfer;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Shape {
  const char* name;
  int64_t rows, cols;
};
// Decode's weight phases in R1: expert gate/up and down, q_b, o_proj, kv_a.
const Shape kShapes[] = {{"expert gate", 2048, 7168}, {"expert down", 7168, 2048}, {"q_b_proj", 24576, 1536},
                         {"o_proj", 7168, 16384},     {"kv_a_proj", 576, 7168}};

struct Matrix {
  std::vector<uint8_t> data;
  std::vector<float> scale;
  LinearWeight w;
};

// Nearest e4m3 code of v (saturating at 448; ties away from zero is enough here).
uint8_t e4m3_code(float v) {
  const uint8_t sign = v < 0 ? 0x80 : 0;
  float a = std::fabs(v);
  if (a >= 448.f) return sign | 0x7e;
  int best = 0;
  float best_err = a;
  for (int c = 1; c < 0x7f; ++c) {
    const int e = c >> 3, m = c & 7;
    const float val = e == 0 ? std::ldexp(static_cast<float>(m), -9) : std::ldexp(1.f + m / 8.f, e - 7);
    if (std::fabs(val - a) < best_err) {
      best_err = std::fabs(val - a);
      best = c;
    }
  }
  return sign | static_cast<uint8_t>(best);
}

// Random weights of `format` (scales near what checkpoints hold).
Matrix make_matrix(const std::string& format, int64_t rows, int64_t cols, uint32_t seed) {
  Matrix m;
  std::mt19937 rng(seed);
  m.w.rows = rows;
  m.w.cols = cols;
  if (format == "int8") {
    m.w.format = WeightFormat::Int8Channel;
    m.data.resize(static_cast<size_t>(rows * cols));
    for (auto& b : m.data) b = static_cast<uint8_t>(static_cast<int>(rng() % 255) - 127);
    m.scale.assign(static_cast<size_t>(rows), 1e-3f);
  } else if (format == "fp8" || format == "fp8p") {
    m.w.format = WeightFormat::Fp8Block;
    m.data.resize(static_cast<size_t>(rows * cols));
    // Codes of normally distributed values whose 128x128 blocks reach ~448,
    // as a quantized checkpoint holds them (few subnormal codes).
    std::normal_distribution<float> nd(0.f, 110.f);
    std::vector<uint8_t> pool(1 << 16);
    for (auto& b : pool) b = e4m3_code(nd(rng));
    for (auto& b : m.data) b = pool[rng() & 0xffff];
    m.scale.assign(static_cast<size_t>((rows + 127) / 128 * ((cols + 127) / 128)), 1e-2f);
  } else {
    m.w.format = WeightFormat::BF16;
    m.w.bf16_inputs = format == "bf16x";
    m.data.resize(static_cast<size_t>(rows * cols * 2));
    for (size_t i = 0; i + 1 < m.data.size(); i += 2) {
      const float f = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) * 1e-5f;
      uint32_t u;
      std::memcpy(&u, &f, 4);
      m.data[i] = static_cast<uint8_t>(u >> 16);
      m.data[i + 1] = static_cast<uint8_t>(u >> 24);
    }
  }
  m.w.data = m.data.data();
  m.w.scale = m.scale.empty() ? nullptr : m.scale.data();
  if (format == "bf16p" || format == "fp8p") cpu::make_cpu_backend()->pack_weight(m.w);
  return m;
}

Matrix copy_of(const Matrix& m) {
  Matrix c = m;
  c.w.data = c.data.data();
  c.w.scale = c.scale.empty() ? nullptr : c.scale.data();
  if (c.w.packed) c.w.packed = cpu::pack_load_panels(c.w);  // its own copy, so each pass reads memory
  return c;
}

// Best GB/s of `passes` passes of y = x W^T over every matrix in turn.
double gemv_gb_per_s(const std::vector<Matrix>& ms, int64_t tokens, int passes) {
  const int64_t cols = ms[0].w.cols, rows = ms[0].w.rows;
  std::vector<float> x(static_cast<size_t>(tokens * cols)), y(static_cast<size_t>(tokens * rows));
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  double bytes = 0;
  for (const auto& m : ms) bytes += static_cast<double>(m.w.bytes());
  double best = 1e30;
  for (int p = 0; p < passes; ++p) {
    const double t0 = now_s();
    for (const auto& m : ms) cpu::linear_rows(m.w, 0, rows, x.data(), tokens, y.data(), rows);
    best = std::min(best, now_s() - t0);
  }
  volatile float sink = y[0];
  (void)sink;
  return bytes / best / 1e9;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t a = 0;
  while (a <= s.size()) {
    const size_t b = std::min(s.find(',', a), s.size());
    if (b > a) out.push_back(s.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

}  // namespace

// The absorption of R1 (128 heads, kv_b rows 256 per head, W_UK = the first
// 128, rank 512), all heads over the team, both forms, best of `reps` each.
void absorb_ab(const std::vector<int64_t>& tokens, int reps) {
  const int64_t heads = 128, nope = 128, kv_rows = 256, rank = 512, qk = 192;
  std::printf("absorption (R1 kv_b, W_UK %lld x %lld per head)\n%-6s %6s | %10s %14s %7s | %9s\n",
              static_cast<long long>(nope), static_cast<long long>(rank), "format", "tokens", "fused ms",
              "dequant+gemm ms", "ratio", "fused GB/s");
  for (const char* f : {"fp8", "bf16"}) {
    const Matrix m = make_matrix(f, heads * kv_rows, rank, 7);
    for (int64_t t : tokens) {
      std::vector<float> q(static_cast<size_t>(t * heads * qk), 0.01f), out(static_cast<size_t>(heads * t * rank));
      double best[2] = {1e30, 1e30};
      for (int r = 0; r < reps; ++r)
        for (int form = 0; form < 2; ++form) {
          const double t0 = now_s();
#pragma omp parallel
          {
            std::vector<float> qn(static_cast<size_t>(t * nope)), w_uk(static_cast<size_t>(nope * rank));
#pragma omp for schedule(static)
            for (int64_t h = 0; h < heads; ++h) {
              if (form == 0 && cpu::left_multiply_rows(m.w, h * kv_rows, nope, q.data() + h * qk, heads * qk, t,
                                                       out.data() + h * t * rank, rank))
                continue;
              for (int64_t i = 0; i < t; ++i)
                for (int64_t d = 0; d < nope; ++d) qn[i * nope + d] = q[(i * heads + h) * qk + d];
              for (int64_t d = 0; d < nope; ++d) cpu::dequant_row(m.w, h * kv_rows + d, w_uk.data() + d * rank);
              cpu::gemm_f32(t, rank, nope, qn.data(), nope, 1, w_uk.data(), rank, out.data() + h * t * rank, rank,
                            false);
            }
          }
          best[form] = std::min(best[form], now_s() - t0);
        }
      const double bytes = static_cast<double>(m.w.bytes()) / 2;  // W_UK: half of kv_b
      std::printf("%-6s %6lld | %10.3f %14.3f %6.2fx | %9.1f\n", f, static_cast<long long>(t), best[0] * 1e3,
                  best[1] * 1e3, best[1] / best[0], bytes / best[0] / 1e9);
    }
  }
}

// The decode core over L cached positions per token (tokens of different
// sequences sharing one cache here: the work is the same), best of `reps`.
void attention_core(const std::vector<int64_t>& tokens, int64_t L, int reps, const bench::Ceilings& c) {
  MlaShape s;
  s.heads = 128, s.qk_nope = 128, s.qk_rope = 64, s.v_head = 128, s.rank = 512;
  s.softmax_scale = 0.07f;
  const int64_t kw = s.rank + s.qk_rope, page = 64, n_pages = (L + page - 1) / page;
  LatentRowLayout layout;
  layout.page_size = page, layout.latent_dim = s.rank, layout.rope_dim = s.qk_rope;
  layout.latent_bytes = static_cast<size_t>(s.rank) * 4, layout.row_bytes = static_cast<size_t>(kw) * 4;
  std::vector<float> storage(static_cast<size_t>(n_pages * page * kw));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (auto& v : storage) v = u(rng);
  std::vector<int32_t> pages(static_cast<size_t>(n_pages));
  for (int64_t i = 0; i < n_pages; ++i) pages[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  const LatentPageTable table{layout, reinterpret_cast<uint8_t*>(storage.data()), layout.layer_bytes(), 0,
                              pages.data(), n_pages, 0.f};
  std::printf("decode attention core (R1: 128 heads, rank 512 + rope 64; context %lld, float32 cache)\n%-8s %6s | "
              "%9s %9s %7s\n",
              static_cast<long long>(L), "compute", "tokens", "ms", "GFLOP/s", "peak%");
  for (bool bf16 : {false, true}) {
    s.bf16 = bf16;
    for (int64_t t : tokens) {
      std::vector<AttentionSeq> seqs;
      for (int64_t i = 0; i < t; ++i) seqs.push_back(AttentionSeq{table, i, 1, L - 1});
      std::vector<float> q_lat(static_cast<size_t>(s.heads * t * s.rank)), q(static_cast<size_t>(t * s.heads * s.qk()));
      for (auto& v : q_lat) v = 0.05f * u(rng);
      for (auto& v : q) v = 0.05f * u(rng);
      std::vector<float> out(static_cast<size_t>(s.heads * t * s.rank));
      double best = 1e30;
      cpu::MlaScratch scratch;  // reused across steps, as the backend's
      for (int r = 0; r < reps; ++r) {
        const double t0 = now_s();
        cpu::mla_decode_attention(s, seqs, q_lat.data(), q.data(), t, out.data(), scratch);
        best = std::min(best, now_s() - t0);
      }
      const double flops = 2.0 * static_cast<double>(t * s.heads * L * (kw + s.rank)) / best;
      // Without bf16 dot products the bf16 setting runs the float32 core.
      const double peak = (bf16 && c.bf16_tflops > 0 ? c.bf16_tflops : c.fp32_tflops) * 1e12;
      std::printf("%-8s %6lld | %9.2f %9.1f %6.1f%%\n", bf16 ? "bf16" : "fp32", static_cast<long long>(t), best * 1e3,
                  flops / 1e9, 100 * flops / peak);
    }
  }
}

int main(int argc, char** argv) {
  bool quick = false, absorb = false, attention = false;
  int64_t context = 8192;
  std::vector<int64_t> tokens = {1, 8, 32};
  std::vector<std::string> formats = {"int8", "fp8", "bf16", "bf16x"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--absorb") absorb = true;
    else if (a == "--attention") attention = true;
    else if (a == "--context" && i + 1 < argc && std::atoll(argv[i + 1]) > 0) context = std::atoll(argv[++i]);
    else if (a == "--tokens" && i + 1 < argc) {
      tokens.clear();
      for (const auto& t : split(argv[++i])) tokens.push_back(std::atoll(t.c_str()));
    } else if (a == "--formats" && i + 1 < argc) formats = split(argv[++i]);
    else {
      std::fprintf(stderr, "usage: gemv_bench [--quick] [--tokens 1,8,32] [--formats int8,fp8,bf16,bf16x,bf16p,fp8p] [--absorb] [--attention] "
                           "[--context N]\n");
      return 2;
    }
  }
  if (absorb) {
    absorb_ab(tokens, quick ? 5 : 15);
    return 0;
  }
  const bench::ReadProbe probe(1024);
  const bench::Ceilings c = bench::measure_ceilings(probe, quick);
  if (attention) {
    std::printf("peaks: fp32 %.3f TFLOPS, bf16 %.3f TFLOPS (%s)\n", c.fp32_tflops, c.bf16_tflops,
                cpu::cpu_features().describe().c_str());
    attention_core(tokens, context, quick ? 3 : 8, c);
    return 0;
  }
  const int threads = omp_get_max_threads();
  std::printf("isa %s | threads %d | read (%d stream(s) per thread) %.1f GB/s all threads, %.1f GB/s one thread | int8 %.3f TOPS | bf16 "
              "%.3f TFLOPS | fp32 %.3f TFLOPS\n",
              cpu::cpu_features().describe().c_str(), threads, c.read_streams, c.read_gb_per_s, c.read_gb_per_s_1thread, c.int8_tops,
              c.bf16_tflops, c.fp32_tflops);
  std::printf("%-6s %-12s %6s | %9s %6s %6s | %10s %7s | %13s\n", "format", "shape", "tokens", "mem GB/s", "ceil", "mem%",
              "L2 GB/s/t", "L2/1t", "mem peak%");
  const int passes = quick ? 2 : 4;
  for (const auto& f : formats) {
    for (const Shape& s : kShapes) {
      // From memory: copies totalling ~1.2 GB (>= 4x a 300 MB LLC).
      std::vector<Matrix> mem;
      const double one = static_cast<double>(make_matrix(f, 1, s.cols, 0).w.bytes()) * static_cast<double>(s.rows);
      const int copies = std::max(2, static_cast<int>(1.2e9 / one));
      mem.push_back(make_matrix(f, s.rows, s.cols, 1));
      for (int i = 1; i < copies; ++i) mem.push_back(copy_of(mem[0]));
      // From L2: ~1 MB of the same width, one thread.
      const double row_bytes = one / static_cast<double>(s.rows);
      const int64_t l2_rows = std::max<int64_t>(16, static_cast<int64_t>(1.0e6 / row_bytes) / 16 * 16);
      std::vector<Matrix> l2;
      l2.push_back(make_matrix(f, l2_rows, s.cols, 100u));
      for (int64_t t : tokens) {
        const double ceil_before = probe.measure(2);
        const double gbs = gemv_gb_per_s(mem, t, passes);
        const double ceil = std::max(ceil_before, probe.measure(2));
        omp_set_num_threads(1);
        gemv_gb_per_s(l2, t, 2);  // into L2
        const double l2_gbs = gemv_gb_per_s(l2, t, quick ? 20 : 60);
        omp_set_num_threads(threads);
        // From memory, (multiply-add) ops per second over the peak of the
        // unit the format computes on: what binds from a few tokens on.
        const bool int8 = f == "int8", bf16_dot = f == "bf16x" && c.bf16_tflops > 0;
        const double peak = int8 ? c.int8_tops : bf16_dot ? c.bf16_tflops : c.fp32_tflops;
        const double ops = 2.0 * static_cast<double>(t) * gbs * 1e9 / (row_bytes / static_cast<double>(s.cols));
        std::printf("%-6s %-12s %6lld | %9.1f %6.1f %5.0f%% | %10.1f %6.2fx | %5.0f%% (%s)\n", f.c_str(), s.name,
                    static_cast<long long>(t), gbs, ceil, 100 * gbs / ceil, l2_gbs,
                    c.read_gb_per_s_1thread > 0 ? l2_gbs / c.read_gb_per_s_1thread : 0.0,
                    peak > 0 ? 100 * ops / (peak * 1e12) : 0.0, int8 ? "int8" : bf16_dot ? "bf16" : "fp32");
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
