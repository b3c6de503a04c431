#pragma once
// The two physical limits the engine is judged against, measured in the same
// process right before the engine runs (the machine is shared and noisy):
// multi-threaded streaming read bandwidth over a buffer >> last-level cache,
// and the peak rate of the dot-product instructions the kernels use.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace dsinfer::bench {

// Peak rates of the dot-product units; 0 where the CPU lacks the instruction.
struct ComputePeaks {
  double int8_tops = 0;    // vpdpbusd (or AMX tdpbssd where present): 2 ops per int8 multiply-add
  double bf16_tflops = 0;  // vdpbf16ps (or AMX tdpbf16ps)
  double fp32_tflops = 0;  // vfmadd231ps (FP8 / fp32 kernels' mix)
  bool measured() const { return int8_tops > 0 || bf16_tflops > 0 || fp32_tflops > 0; }
};

struct Ceilings {
  // All worker threads, best of several passes; re-measured around every
  // case (add_read_sample), the highest kept here.
  double read_gb_per_s = 0;
  std::vector<double> read_samples;
  void add_read_sample(double gb_per_s);
  // One thread alone (the others idle), best of several passes: what a
  // single core's outstanding misses sustain. A kernel whose per-thread
  // rate sits well below it is bound by its own instructions, not memory.
  double read_gb_per_s_1thread = 0;
  int read_streams = 1;  // sequential streams per thread of the read probe
  // As ComputePeaks; re-measured around compute-bound cases (add_peak_sample:
  // the units' rate moves with the neighbours too), the highest kept here.
  double int8_tops = 0;
  double bf16_tflops = 0;
  double fp32_tflops = 0;
  size_t buffer_bytes = 0;
  void add_peak_sample(const ComputePeaks& p);
};

// The instruction peaks alone (~50 ms; `quick`: shorter loops), for a
// measurement next to a compute-bound case.
ComputePeaks measure_compute_peaks(bool quick = false);

// The read-bandwidth measurement on its own, with its buffer kept, so the
// bench can re-measure next to every case: on a shared machine the
// bandwidth neighbours leave moves by +-30% within seconds, so each case's
// fraction is taken against the ceiling measured around it.
class ReadProbe {
 public:
  explicit ReadProbe(size_t buffer_mb);
  double measure(int passes) const;  // GB/s, best of `passes`
  // Picks the streams per thread (1, 2, 4, 8) that read fastest here, used by
  // every later measure(): a ceiling a kernel can beat is not a ceiling.
  void choose_streams(int passes) const;
  int streams() const { return streams_; }
  // GB/s of the calling thread alone over (at most 256 MiB of) the buffer.
  double measure_one_thread(int passes) const;
  size_t bytes() const { return bytes_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  size_t bytes_;
  mutable int streams_ = 1;
  std::unique_ptr<uint8_t, Free> buf_;
};

// The read ceiling through `probe` (its buffer >= 16x the LLC; 1 GiB by
// default in the bench) and the instruction peaks.
Ceilings measure_ceilings(const ReadProbe& probe, bool quick = false);

}  // namespace dsinfer::bench
