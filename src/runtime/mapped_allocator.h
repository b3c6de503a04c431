#pragma once
// An allocator for per-request scratch of vocabulary size (megabytes per
// sequence, alive as long as its request): large blocks are private
// anonymous mappings, returned to the system when freed. The process keeps
// freed heap memory for the kernels' reuse (keep_scratch_in_heap), so
// without this every burst of requests would leave its high-water mark in
// the heap arenas of whichever threads sampled.
#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace dsinfer {

template <class T>
struct MappedAllocator {
  using value_type = T;
  static constexpr size_t kMapFrom = 64 * 1024;  // bytes; smaller blocks use the heap

  MappedAllocator() = default;
  template <class U>
  MappedAllocator(const MappedAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMapFrom) return static_cast<T*>(::operator new(bytes));
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMapFrom) ::operator delete(p);
    else munmap(p, bytes);
  }
  template <class U>
  bool operator==(const MappedAllocator<U>&) const { return true; }
};

template <class T>
using MappedVector = std::vector<T, MappedAllocator<T>>;

}  // namespace dsinfer
