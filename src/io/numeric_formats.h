#pragma once
// Scalar conversions between the checkpoint element formats and float32.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace dsinfer {

inline float bf16_to_float(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round-to-nearest-even, as torch's float32 -> bfloat16 cast does; NaN kept quiet.
inline uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

inline float f16_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    f = mant ? NAN : INFINITY;
  } else {
    f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= sign;
  std::memcpy(&f, &bits, 4);
  return f;
}

// float8 e4m3fn (bias 7, no infinities, 0x7f/0xff = NaN), exact in float32.
inline float fp8_e4m3_to_float_slow(uint8_t v) {
  const int sign = v >> 7;
  const int exp = (v >> 3) & 0xf;
  const int mant = v & 7;
  float mag;
  if (exp == 0xf && mant == 7) mag = NAN;
  else if (exp == 0) mag = std::ldexp(static_cast<float>(mant), -9);
  else mag = std::ldexp(static_cast<float>(8 + mant), exp - 10);
  return sign ? -mag : mag;
}

// 256-entry lookup table: the decode used inside the FP8 kernels.
struct Fp8Table {
  std::array<float, 256> value{};
  Fp8Table() {
    for (int i = 0; i < 256; ++i) value[i] = fp8_e4m3_to_float_slow(static_cast<uint8_t>(i));
  }
};
inline const Fp8Table& fp8_table() {
  static const Fp8Table table;
  return table;
}

}  // namespace dsinfer

namespace dsinfer {

// Nearest float8 e4m3fn value (round half to even, saturating at +-448).
inline uint8_t float_to_fp8_e4m3(float f) {
  if (std::isnan(f)) return 0x7f;
  const uint8_t sign = std::signbit(f) ? 0x80 : 0;
  float a = std::fabs(f);
  if (a >= 448.f) return sign | 0x7e;
  // Positive codes 0x00..0x7e are increasing in value; binary search the table.
  const auto& t = fp8_table().value;
  int lo = 0, hi = 0x7e;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (t[mid] <= a) lo = mid;
    else hi = mid;
  }
  const float dl = a - t[lo], dh = t[hi] - a;
  int code = dl < dh ? lo : (dh < dl ? hi : ((lo & 1) ? hi : lo));
  return sign | static_cast<uint8_t>(code);
}

}  // namespace dsinfer
