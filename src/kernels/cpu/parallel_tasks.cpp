#include "kernels/cpu/parallel_tasks.h"

#include <exception>
#include <vector>

namespace dsinfer::cpu {

void run_parallel_tasks(int64_t n, const std::function<void(int64_t)>& task) {
  if (n <= 1) {
    if (n == 1) task(0);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < n; ++i) {
    try {
      task(i);
    } catch (...) {
      errors[static_cast<size_t>(i)] = std::current_exception();
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace dsinfer::cpu
