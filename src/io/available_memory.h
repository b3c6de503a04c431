#pragma once
// The memory a process may still take without swapping (MemAvailable:
// free memory plus the page cache the kernel can drop), for the checks that
// refuse what will not fit before touching it.
#include <cstdint>

namespace dsinfer {

// Bytes; 0 where /proc/meminfo says nothing (callers then skip the check).
uint64_t available_memory_bytes();

}  // namespace dsinfer
