#pragma once
// The two physical limits the engine is judged against, measured in the same
// process right before the engine runs (the machine is shared and noisy):
// multi-threaded streaming read bandwidth over a buffer >> last-level cache,
// and the peak rate of the dot-product instructions the kernels use.
#include <cstddef>
#include <vector>

namespace dsinfer::bench {

struct Ceilings {
  // All worker threads, best of several passes; re-measured during a long
  // run (add_read_sample) and the highest kept: on a shared machine the
  // bandwidth left by neighbours moves by +-30% within minutes, and the
  // ceiling is what the machine can do, not what it did at the start.
  double read_gb_per_s = 0;
  std::vector<double> read_samples;
  void add_read_sample(double gb_per_s);
  double int8_tops = 0;      // vpdpbusd: 2 ops per int8 multiply-add
  double bf16_tflops = 0;    // vdpbf16ps
  double fp32_tflops = 0;    // vfmadd231ps (FP8 / fp32 kernels' mix)
  size_t buffer_bytes = 0;
};

// buffer_mb: size of the read buffer (default 1 GiB; use >= 16x the LLC).
Ceilings measure_ceilings(size_t buffer_mb = 1024, bool quick = false);
double measure_read_gb_per_s(size_t buffer_mb = 1024, bool quick = false);

}  // namespace dsinfer::bench
