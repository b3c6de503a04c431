#pragma once
// Inner loops of the machine ceilings (machine_ceilings.h). Each runs on the
// calling thread only; the caller runs one copy per worker thread.
#include <cstddef>
#include <cstdint>

namespace dsinfer::bench {

// Sums n bytes (n % 64 == 0) with 512-bit loads: a pure streaming read.
uint64_t stream_read(const uint8_t* p, size_t n);
// The same over `streams` (1, 2, 4 or 8) equal parts read side by side: some
// cores sustain more bandwidth with several sequential streams in flight.
uint64_t stream_read_multi(const uint8_t* p, size_t n, int streams);
// iters x 12 independent vpdpbusd zmm (64 int8 MACs each) / vdpbf16ps zmm
// (32 bf16 MACs) / vfmadd231ps zmm (16 fp32 MACs): the kernels' instruction mix
// at full issue rate. Return a value derived from the results (keeps them live).
float vnni_loop(int64_t iters);
float bf16_dot_loop(int64_t iters);
float fma_loop(int64_t iters);

// AVX2 (needs AVX2, callers check): iters x 12 int8 multiply-add steps of
// the AVX2 tiles (vpsignb + vpmaddubsw + vpmaddwd + vpaddd, 32 MACs each).
float int8_madd_loop_avx2(int64_t iters);

// Portable versions (any CPU): a streaming read, and iters x 96 float FMAs.
uint64_t stream_read_portable(const uint8_t* p, size_t n);
float fma_loop_portable(int64_t iters);

}  // namespace dsinfer::bench
