#include "runtime/process_tuning.h"

#include <malloc.h>

#include "kernels/cpu/thread_pinning.h"

namespace dsinfer {

void keep_scratch_in_heap() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

std::string pin_worker_threads() { return cpu::pin_worker_threads(); }

}  // namespace dsinfer
