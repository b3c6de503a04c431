#pragma once
// The kernels run on OpenMP's team, which is created once and kept (a
// persistent pool). pin_worker_threads() binds team member i to the i-th CPU
// the process may use, so a thread keeps its core, its L1/L2 and its share of
// the weights between parallel regions; on several NUMA nodes threads
// alternate between nodes and interleave their memory (numa_topology.h).
// Call once before the hot loop and before loading weights; the library
// never calls it on its own (embedding programs may manage affinity).
#include <string>

namespace dsinfer::cpu {

// Returns a short description, e.g. "2 threads pinned to cpus 0,1 (1 NUMA node)".
std::string pin_worker_threads();
int worker_threads();

}  // namespace dsinfer::cpu
