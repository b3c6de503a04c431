#pragma once
// Input shards are memory-mapped; pages that were read stay resident (and
// count in the process RSS) until unmapped. The converter drops them as soon
// as a tensor is done, so memory stays bounded on 640 GB checkpoints. The
// mapping is read-only and file-backed: dropped pages are re-read on demand.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

namespace dsinfer::convert {

inline void release_mapped_pages(const void* data, size_t nbytes) {
  if (nbytes == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + nbytes + page - 1) & ~(page - 1);
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);  // advisory: failure is harmless
}

}  // namespace dsinfer::convert
