#pragma once
// A 64-byte aligned array (packed GEMM panels are read with aligned
// AVX-512 loads). Backed by a vector with slack; the aligned start moves
// with every resize.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsinfer::cpu {

template <class T>
class Aligned64 {
 public:
  explicit Aligned64(size_t n = 0) { resize(n); }
  void resize(size_t n) { storage_.assign(n + 64 / sizeof(T), T{}); }
  T* data() {
    const auto mis = reinterpret_cast<uintptr_t>(storage_.data()) % 64;
    return storage_.data() + (mis ? (64 - mis) / sizeof(T) : 0);
  }

 private:
  std::vector<T> storage_;
};

}  // namespace dsinfer::cpu
