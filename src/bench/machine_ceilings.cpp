#include "bench/machine_ceilings.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "bench/peak_loops.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/amx_linear.h"

namespace dsinfer::bench {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best of `reps` timings of fn() run by every worker thread at once.
template <class Fn>
double best_parallel_seconds(int reps, Fn&& fn) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = 0, t1 = 0;
#pragma omp parallel
    {
#pragma omp barrier
#pragma omp master
      t0 = now_s();
      fn(omp_get_thread_num(), omp_get_num_threads());
#pragma omp barrier
#pragma omp master
      t1 = now_s();
    }
    best = std::min(best, t1 - t0);
  }
  return best;
}

volatile float g_sink;
volatile uint64_t g_sink64;

}  // namespace

ReadProbe::ReadProbe(size_t buffer_mb) : bytes_(buffer_mb << 20) {
  auto* buf = static_cast<uint8_t*>(std::aligned_alloc(4096, bytes_));
  if (!buf) throw std::bad_alloc();
  buf_.reset(buf);
  // First touch by the thread that later reads each part (NUMA / page placement).
#pragma omp parallel
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const size_t part = bytes_ / nt / 64 * 64;
    std::memset(buf + part * t, t + 1, t == nt - 1 ? bytes_ - part * t : part);
  }
}

double ReadProbe::measure(int passes) const {
  const bool avx512 = cpu::cpu_features().avx512;  // else the portable loop
  const uint8_t* buf = buf_.get();
  const size_t n = bytes_;
  const double rd = best_parallel_seconds(passes, [&](int t, int nt) {
    const size_t part = n / nt / 64 * 64;
    const uint8_t* p = buf + part * t;
    const size_t len = t == nt - 1 ? n - part * t : part;
    g_sink64 = avx512 ? stream_read_multi(p, len, streams_) : stream_read_portable(p, len);
  });
  return static_cast<double>(n) / rd / 1e9;
}

double ReadProbe::measure_one_thread(int passes) const {
  const bool avx512 = cpu::cpu_features().avx512;
  // Still >> any last-level cache, and short enough for a slow single core.
  const size_t n = std::min<size_t>(bytes_, size_t{256} << 20);
  double best = 1e30;
  for (int r = 0; r < passes; ++r) {
    const double t0 = now_s();
    g_sink64 = avx512 ? stream_read_multi(buf_.get(), n, streams_) : stream_read_portable(buf_.get(), n);
    best = std::min(best, now_s() - t0);
  }
  return static_cast<double>(n) / best / 1e9;
}

void ReadProbe::choose_streams(int passes) const {
  if (!cpu::cpu_features().avx512) return;  // the portable loop reads one stream
  double best = 0;
  int best_streams = 1;
  for (int s : {1, 2, 4, 8}) {
    streams_ = s;
    const double gbs = measure(passes);
    if (gbs > best) {
      best = gbs;
      best_streams = s;
    }
  }
  streams_ = best_streams;
}

void Ceilings::add_read_sample(double gb_per_s) {
  read_samples.push_back(gb_per_s);
  read_gb_per_s = std::max(read_gb_per_s, gb_per_s);
}

void Ceilings::add_peak_sample(const ComputePeaks& p) {
  int8_tops = std::max(int8_tops, p.int8_tops);
  bf16_tflops = std::max(bf16_tflops, p.bf16_tflops);
  fp32_tflops = std::max(fp32_tflops, p.fp32_tflops);
}

Ceilings measure_ceilings(const ReadProbe& probe, bool quick) {
  Ceilings c;
  c.buffer_bytes = probe.bytes();
  probe.choose_streams(quick ? 1 : 2);
  c.read_streams = probe.streams();
  c.add_read_sample(probe.measure(quick ? 3 : 6));
  c.read_gb_per_s_1thread = probe.measure_one_thread(quick ? 2 : 4);
  c.add_peak_sample(measure_compute_peaks(quick));
  return c;
}

ComputePeaks measure_compute_peaks(bool quick) {
  ComputePeaks c;
  const bool avx512 = cpu::cpu_features().avx512;  // else the portable loop (fp32)
  const int64_t iters = quick ? 1'000'000 : 3'000'000;
  const double nthreads = omp_get_max_threads();
  const double ops = static_cast<double>(iters) * 12 * nthreads;  // instructions in total
  if (!avx512) {
    const double flops = static_cast<double>(iters) * 96 * 2 * nthreads;
    c.fp32_tflops = flops / best_parallel_seconds(3, [&](int, int) { g_sink = fma_loop_portable(iters); }) / 1e12;
    if (cpu::cpu_features().avx2)  // the AVX2 int8 tiles' mix (no bf16 dot product on these CPUs)
      c.int8_tops = ops * 64 / best_parallel_seconds(3, [&](int, int) { g_sink = int8_madd_loop_avx2(iters); }) / 1e12;
    return c;
  }
  if (cpu::cpu_features().avx512_vnni)
    c.int8_tops = ops * 128 / best_parallel_seconds(3, [&](int, int) { g_sink = vnni_loop(iters); }) / 1e12;
  if (cpu::cpu_features().avx512_bf16)
    c.bf16_tflops = ops * 64 / best_parallel_seconds(3, [&](int, int) { g_sink = bf16_dot_loop(iters); }) / 1e12;
  c.fp32_tflops = ops * 32 / best_parallel_seconds(3, [&](int, int) { g_sink = fma_loop(iters); }) / 1e12;
  // The linears of 4+ (int8) / 8+ (bf16) tokens run on AMX tiles where the
  // CPU has them: the tiles' peak is then the one that counts.
  const int64_t tile_iters = iters / 32;
  auto tile_peak = [&](double ops_per_instruction, float (*loop)(int64_t)) {
    const double total = static_cast<double>(tile_iters) * 4 * ops_per_instruction * nthreads;
    return total / best_parallel_seconds(3, [&](int, int) { g_sink = loop(tile_iters); }) / 1e12;
  };
  if (cpu::cpu_features().amx)
    c.int8_tops = std::max(c.int8_tops, tile_peak(cpu::amx::kOpsPerTdpbssd, cpu::amx::int8_peak_loop));
  if (cpu::cpu_features().amx_bf16)
    c.bf16_tflops = std::max(c.bf16_tflops, tile_peak(cpu::amx::kFlopsPerTdpbf16ps, cpu::amx::bf16_peak_loop));
  return c;
}

}  // namespace dsinfer::bench
