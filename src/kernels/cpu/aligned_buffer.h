#pragma once
// 64-byte aligned storage: packed GEMM panels are read with aligned AVX-512
// loads, and activation copies 64 bytes at a time.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsinfer::cpu {

// 64-byte aligned storage for std::vector: the activation copies the
// AVX-512 tiles read 64 bytes at a time. glibc's large blocks start 16 bytes
// past a page, so every such load of an unaligned copy straddles two cache
// lines (a float32 bf16 / FP8 tile of 8-32 tokens ran 1.2-1.4x slower from
// L2 on the Xeon without AMX).
template <class T>
struct Align64Allocator {
  using value_type = T;
  Align64Allocator() = default;
  template <class U>
  Align64Allocator(const Align64Allocator<U>&) {}
  // A plain block 64 bytes longer, the start moved up to the next 64-byte
  // boundary and the block's address kept just before it: aligned operator
  // new (memalign) split the heap's chunks and let a server's RSS creep with
  // the varying sizes of its steps.
  T* allocate(size_t n) {
    auto* raw = static_cast<unsigned char*>(::operator new(n * sizeof(T) + 64 + sizeof(void*)));
    const auto start = (reinterpret_cast<uintptr_t>(raw) + sizeof(void*) + 63) / 64 * 64;
    reinterpret_cast<void**>(start)[-1] = raw;
    return reinterpret_cast<T*>(start);
  }
  void deallocate(T* p, size_t) { ::operator delete(reinterpret_cast<void**>(p)[-1]); }
  friend bool operator==(const Align64Allocator&, const Align64Allocator&) { return true; }
};
template <class T>
using AlignedVector = std::vector<T, Align64Allocator<T>>;

// A 64-byte aligned array of n zeroed elements (every resize zeroes it).
template <class T>
class Aligned64 {
 public:
  explicit Aligned64(size_t n = 0) { resize(n); }
  void resize(size_t n) { storage_.assign(n, T{}); }
  T* data() { return storage_.data(); }

 private:
  AlignedVector<T> storage_;
};

}  // namespace dsinfer::cpu
