#pragma once
// Token tiling shared by the AVX-512 dot-form tiles (linear_avx512.cpp) and
// the FP8 scratch tiles (fp8_lut_avx512.cpp). Include only inside an AVX-512
// target region, as tail_masks_avx512.h: the tile lambdas it calls must
// inline into code of the same target.
#include <cstdint>

namespace dsinfer::cpu::avx512 {
namespace {

// Runs block.template operator()<T>(t) over tokens [t0, t1): tiles of 6
// tokens, then one of the remaining 1-5 (the dot-form tiles' widths).
template <class Block>
inline void tiles_of_6(int64_t t0, int64_t t1, Block&& block) {
  int64_t t = t0;
  for (; t + 6 <= t1; t += 6) block.template operator()<6>(t);
  switch (t1 - t) {
    case 5: block.template operator()<5>(t); break;
    case 4: block.template operator()<4>(t); break;
    case 3: block.template operator()<3>(t); break;
    case 2: block.template operator()<2>(t); break;
    case 1: block.template operator()<1>(t); break;
    default: break;
  }
}

}  // namespace
}  // namespace dsinfer::cpu::avx512
