#pragma once
// Which vector instruction sets the running CPU has. Kernels are compiled for
// several ISAs (function target attributes) and picked here at run time, so a
// binary built on an AVX-512 machine still runs correctly on an AVX2 one.
#include <string>

namespace dsinfer::cpu {

struct CpuFeatures {
  bool avx2 = false;
  bool avx512 = false;       // F + BW + VL (+ DQ)
  bool avx512_vnni = false;  // vpdpbusd
  bool avx512_bf16 = false;  // vdpbf16ps, vcvtne2ps2bf16
  bool avx512_vbmi = false;  // vpermt2b (FP8 widening through byte tables)
  bool amx = false;          // reported only; no AMX kernels yet
  std::string describe() const;
};

// Detected once. DSINFER_ISA=scalar|avx2 in the environment caps it (tests of
// the fallback paths, comparisons).
const CpuFeatures& cpu_features();

}  // namespace dsinfer::cpu
