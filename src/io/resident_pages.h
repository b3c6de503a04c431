#pragma once
// How much of a memory range this process has resident (its page table,
// /proc/self/pagemap): under expert parallelism the proof that a rank never
// read the pages of the experts it does not own.
#include <cstddef>
#include <cstdint>

namespace dsinfer {

// Bytes of [p, p + n) in pages present in this process (0 when pagemap
// cannot be read).
uint64_t resident_bytes(const void* p, size_t n);

}  // namespace dsinfer
