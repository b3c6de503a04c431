// Opens a region compiled for AVX-512 (F, BW, VL, DQ) with AVX2 and FMA:
// the bodies of the *_avx512.cpp kernels that need no further extension.
// Include after every standard header (a standard template instantiated in
// the region would carry AVX-512 code into inline functions other files
// share), and close it with avx512_region_end.h. No include guard: each
// include opens a region.
#pragma GCC push_options
// GCC 12 false positive inside its own intrinsics (undefined passthrough).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx2,fma,avx512f,avx512bw,avx512vl,avx512dq")
