#pragma once
// The constants of the vector exp (AVX-512 exp16, AVX2 exp8), one set for
// both widths: exp(x) = 2^n e^r with n = round(x log2 e), r = x - n ln2
// (ln2 in two parts), e^r by its Taylor series to degree 7 (Horner, highest
// coefficient first) on |r| <= ln2/2; inputs clamped to [kLo, kHi], 0
// below kLo (which covers -inf).
namespace dsinfer::cpu::vector_exp {

inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.428606765330187e-06f;
inline constexpr float kLo = -87.3f, kHi = 88.3f;
inline constexpr float kTaylor[8] = {1.f / 5040, 1.f / 720, 1.f / 120, 1.f / 24, 1.f / 6, 0.5f, 1.f, 1.f};

}  // namespace dsinfer::cpu::vector_exp
