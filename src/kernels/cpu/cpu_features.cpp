#include "kernels/cpu/cpu_features.h"

#include "kernels/cpu/amx_linear.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dsinfer::cpu {
namespace {

#if defined(__x86_64__) && defined(__GNUC__)
// Seconds for `iters` rounds of 8 independent vdpbf16ps (Bf16) or
// vfmadd231ps (enough chains to cover either's latency): the ratio says
// which unit does more FLOP/s. Called only on CPUs with AVX512_BF16.
template <bool Bf16>
__attribute__((target("avx512f,avx512bf16"))) double time_dot_loop(int iters) {
  __m512 a[8];
  for (int i = 0; i < 8; ++i) a[i] = _mm512_set1_ps(static_cast<float>(i));
  __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
  const auto t0 = std::chrono::steady_clock::now();
  for (int it = 0; it < iters; ++it) {
    for (int i = 0; i < 8; ++i) {
      if constexpr (Bf16) a[i] = _mm512_dpbf16_ps(a[i], (__m512bh)_mm512_castps_si512(x), (__m512bh)_mm512_castps_si512(y));
      else a[i] = _mm512_fmadd_ps(x, y, a[i]);
    }
    __asm__ volatile("" : "+v"(x));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  __m512 t = a[0];
  for (int i = 1; i < 8; ++i) t = _mm512_add_ps(t, a[i]);
  alignas(64) float lanes[16];  // (no _mm512_reduce_*: GCC 12 warns inside it)
  _mm512_store_ps(lanes, t);
  volatile float sink = lanes[0];
  (void)sink;
  return s;
}
// vdpbf16ps: 64 FLOP per instruction, FMA 32: slower when it takes more than
// twice the FMA loop's time (best of 3 short runs each, warm).
bool bf16_dot_slower_than_fma() {
  constexpr int kIters = 20000;
  double bf = 1e30, fm = 1e30;
  for (int r = 0; r < 3; ++r) {
    bf = std::min(bf, time_dot_loop<true>(kIters));
    fm = std::min(fm, time_dot_loop<false>(kIters));
  }
  return bf > 2.0 * fm;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  f.avx512_vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
  f.avx512_bf16 = f.avx512 && __builtin_cpu_supports("avx512bf16");
  f.avx512_vbmi = f.avx512 && __builtin_cpu_supports("avx512vbmi");
#if defined(__GNUC__) && __GNUC__ >= 11
  // The tiles' state is granted per process by Linux; without it the first
  // tile instruction would fault.
  f.amx = f.avx512 && __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-int8") &&
          amx::request_tile_permission();
  f.amx_bf16 = f.amx && f.avx512_bf16 && __builtin_cpu_supports("amx-bf16");
#endif
#endif
#if defined(__x86_64__) && defined(__GNUC__)
  if (f.avx512_bf16) f.bf16_dot_slower_than_fma = bf16_dot_slower_than_fma();
#endif
#if defined(__x86_64__) || defined(__i386__)
  f.gemv_one_stream = __builtin_cpu_is("amd");
  f.fast_subnormal_fma = __builtin_cpu_is("amd");
#endif
  if (const char* s = std::getenv("DSINFER_GEMV_STREAM")) f.gemv_one_stream = std::strcmp(s, "1") == 0;
  if (const char* s = std::getenv("DSINFER_FAST_SUBNORMALS")) f.fast_subnormal_fma = std::strcmp(s, "1") == 0;
  if (const char* cap = std::getenv("DSINFER_ISA")) {
    if (std::strcmp(cap, "scalar") == 0) f = CpuFeatures{};
    else if (std::strcmp(cap, "avx2") == 0) f = CpuFeatures{
        .avx2 = f.avx2, .gemv_one_stream = f.gemv_one_stream, .fast_subnormal_fma = f.fast_subnormal_fma};
    else if (std::strcmp(cap, "avx512") == 0) f.amx = f.amx_bf16 = false;
  }
  return f;
}

}  // namespace

std::string CpuFeatures::describe() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(avx2, "avx2");
  add(avx512, "avx512");
  add(avx512_vnni, "avx512_vnni");
  add(avx512_bf16, "avx512_bf16");
  add(avx512_vbmi, "avx512_vbmi");
  add(bf16_dot_slower_than_fma, "(vdpbf16ps slower than fma)");
  add(gemv_one_stream, "(one-stream gemv)");
  add(fast_subnormal_fma, "(fast subnormal fma)");
  add(amx, "amx");
  add(amx_bf16, "amx_bf16");
  return s.empty() ? "scalar" : s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace dsinfer::cpu
