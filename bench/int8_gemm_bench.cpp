// int8_gemm_bench: W8A8 prefill GEMM throughput (linear_int8_rows: quantize +
// int32 GEMM + float epilogue) on model shapes, as GOPS and % of the vpdpbusd
// peak measured in the same run (the machine is shared and noisy).
// Usage: int8_gemm_bench [reps] [T R K ...]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench/machine_ceilings.h"
#include "kernels/cpu/int8_linear.h"

using namespace dsinfer;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Shape {
  int64_t t, r, k;
};

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  std::vector<Shape> shapes;
  for (int i = 2; i + 2 < argc; i += 3) shapes.push_back({std::atoll(argv[i]), std::atoll(argv[i + 1]), std::atoll(argv[i + 2])});
  if (shapes.empty())
    shapes = {{2048, 2048, 7168}, {2048, 7168, 2048}, {2048, 7168, 16384}, {2048, 24576, 1536}, {512, 2048, 7168}};
  const double peak = bench::measure_ceilings(bench::ReadProbe(64), true).int8_tops * 1e3;  // GOPS
  std::printf("threads %d  vpdpbusd peak %.0f GOPS\n", omp_get_max_threads(), peak);
  std::mt19937 rng(1);
  for (const Shape& s : shapes) {
    std::vector<int8_t> w(static_cast<size_t>(s.r * s.k));
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<float> ws(static_cast<size_t>(s.r)), x(static_cast<size_t>(s.t * s.k)), y(static_cast<size_t>(s.t * s.r));
    for (auto& v : ws) v = 1e-3f * static_cast<float>(rng() % 1000 + 1);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    LinearWeight lw;
    lw.format = WeightFormat::Int8Channel;
    lw.rows = s.r;
    lw.cols = s.k;
    lw.data = w.data();
    lw.scale = ws.data();
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
      const double t0 = now_s();
      cpu::linear_int8_rows(lw, 0, s.r, x.data(), s.t, y.data(), s.r);
      best = std::min(best, now_s() - t0);
    }
    double sum = 0;
    for (float v : y) sum += v;
    const double gops = 2.0 * s.t * s.r * s.k / best / 1e9;
    std::printf("%5lld x %6lld x %6lld  %8.2f ms  %7.1f GOPS  %5.1f%% of peak  (checksum %.6g)\n",
                static_cast<long long>(s.t), static_cast<long long>(s.r), static_cast<long long>(s.k), best * 1e3, gops,
                100.0 * gops / peak, sum);
  }
  return 0;
}
