#pragma once
// Which vector instruction sets the running CPU has. Kernels are compiled for
// several ISAs (function target attributes) and picked here at run time, so a
// binary built on an AVX-512 machine still runs correctly on an AVX2 one.
#include <string>

namespace dsinfer::cpu {

struct CpuFeatures {
  bool avx2 = false;         // AVX2 + FMA + F16C (the linear_avx2 kernels)
  bool avx512 = false;       // F + BW + VL (+ DQ)
  bool avx512_vnni = false;  // vpdpbusd
  bool avx512_bf16 = false;  // vdpbf16ps, vcvtne2ps2bf16
  bool avx512_vbmi = false;  // vpermt2b (FP8 widening through byte tables)
  bool amx = false;          // AMX-INT8 tiles, permission granted (W8A8 linears of 4+ tokens)
  bool amx_bf16 = false;     // AMX-BF16 too (bf16 products of 8+ tokens)
  // vdpbf16ps does fewer FLOP/s than float32 FMA on this core (measured once
  // at start-up, ~0.2 ms): some cores issue one per two cycles against two
  // FMAs per cycle. Then bf16 weights of decode-sized batches run on the
  // exact float32 tiles even where bf16-rounded inputs are allowed.
  bool bf16_dot_slower_than_fma = false;
  // int8 GEMVs of 1-2 tokens read one weight row after another, so each
  // thread reads one sequential stream: AMD cores' prefetchers follow that
  // at ~90-99 % of the read ceiling and fall to ~70 % on rows read side by
  // side (measured on Zen 4 and Zen 5); the Xeons measured read 8-row tiles
  // faster. (Float kernels keep their row tiles: one row at a time is one
  // dependent chain per row there, and their order of sums is fixed.) Set on
  // AMD; DSINFER_GEMV_STREAM=1|0 forces it (tests of both forms, comparisons).
  bool gemv_one_stream = false;
  // FMAs take subnormal operands at full rate: AMD (Zen 3 measured); the
  // Xeons measured take a microcode assist of ~8 ns per such FMA (40x its
  // rate). The FP8 panels then widen e4m3 by integer shifts to images that
  // are subnormal for subnormal codes, else through fp16 (same products;
  // load_panels.h). DSINFER_FAST_SUBNORMALS=1|0 forces it (tests of both).
  bool fast_subnormal_fma = false;
  std::string describe() const;
};

// Detected once. DSINFER_ISA=scalar|avx2|avx512 in the environment caps it
// (tests of the fallback paths, comparisons; avx512: everything but AMX).
const CpuFeatures& cpu_features();

}  // namespace dsinfer::cpu
