#pragma once
// Seeded test operands for the kernel tests.
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "io/numeric_formats.h"

namespace dsinfer::test {

// n floats uniform in [lo, hi), the same for the same seed.
inline std::vector<float> uniform_floats(size_t n, unsigned seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// The bf16 bit patterns of v (round to nearest even).
inline std::vector<uint16_t> bf16_bits(const std::vector<float>& v) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = float_to_bf16(v[i]);
  return out;
}

}  // namespace dsinfer::test
