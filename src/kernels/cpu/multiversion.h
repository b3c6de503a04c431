#pragma once
// Generic loops (norms, dot products, softmax steps) compiled for several
// x86-64 levels; the dynamic loader picks the widest the CPU has (GCC/Clang
// target_clones), so a portable build runs them at native width. Builds for
// a fixed ISA (-march=native with AVX-512) need no clones.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__AVX512F__)
#define DSINFER_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DSINFER_MULTIVERSION
#endif
