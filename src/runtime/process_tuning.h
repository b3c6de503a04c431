#pragma once
// Process-wide settings an inference process wants before its first step.
#include <string>

namespace dsinfer {

// Kernels allocate per-call scratch of up to tens of MB (quantized
// activations, expert batches). glibc would mmap each and unmap it on free,
// so every layer re-faults and the kernel re-zeroes those pages (~7% of a
// prefill). Keeps them in the heap and freed memory for reuse instead.
// Weights are file mappings and the KV pool its own mapping, neither goes
// through malloc. Idempotent.
void keep_scratch_in_heap();

// Pins the worker threads to cores (one each, NUMA nodes alternated);
// returns a one-line description.
std::string pin_worker_threads();

}  // namespace dsinfer
