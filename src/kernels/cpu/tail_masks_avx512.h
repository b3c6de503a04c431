#pragma once
// Masks of the first n lanes (all of them from the vector width on), for
// the ragged ends of the AVX-512 loops. Include only inside an AVX-512
// target region (avx512_region_begin.h or the file's own target pragma).
#include <immintrin.h>

#include <cstdint>

namespace dsinfer::cpu::avx512 {
namespace {

inline __mmask64 tail_mask64(int64_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }
inline __mmask32 tail_mask32(int64_t n) { return n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1; }
inline __mmask16 tail_mask16(int64_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }

}  // namespace
}  // namespace dsinfer::cpu::avx512
